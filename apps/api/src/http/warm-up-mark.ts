import { randomUUID } from 'node:crypto'

/**
 * Marks the warm-up's own requests (warm-up.ts), so the request log writes them at debug, not
 * info (an operator reads one 'warmed up' line, not 600). Random per process: no client can
 * send it.
 */
export const WARM_UP_HEADER = 'x-tms-warm-up'
export const WARM_UP_MARK = randomUUID()
