import { randomUUID } from 'node:crypto'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { WARM_UP_HEADER, WARM_UP_MARK } from './http/warm-up-mark.js'
import type { IssuedSession } from './plugins/sessions.js'

export interface WarmUpOptions {
  /** Requests in all; 0 turns the warm-up off. */
  requests: number
  /** Requests in flight at once. */
  concurrency?: number
}

export interface WarmUpResult {
  requests: number
  durationMs: number
  /** Answers by status code: 200, and the 4xx the mix asks for on purpose (400, 404, 409). */
  statuses: Record<string, number>
}

/** Not a shipment or request that exists: the write paths run and change nothing. */
const NOBODY = '00000000-0000-4000-8000-00000000a11a'

const MIX: InjectOptions[] = [
  { method: 'GET', url: '/shipments?status=PENDING&limit=50' },
  { method: 'GET', url: '/shipments/counts' },
  { method: 'POST', url: `/shipments/${NOBODY}/claim` },
  { method: 'GET', url: '/shipments?status=PENDING&limit=50' },
  { method: 'POST', url: `/shipments/${NOBODY}/claim/extend` },
  { method: 'GET', url: `/shipments/${NOBODY}` },
  { method: 'POST', url: `/shipments/${NOBODY}/pack` },
  { method: 'POST', url: `/shipments/${NOBODY}/ship`, payload: { trackingNumber: 'WARM-UP' } },
  { method: 'GET', url: '/admin/jobs' },
  { method: 'POST', url: '/shipment-requests', payload: {} },
  { method: 'GET', url: `/shipment-requests/${NOBODY}` },
  { method: 'GET', url: '/shipment-requests?status=OPEN&limit=20' },
  { method: 'GET', url: '/auth/me' },
  { method: 'GET', url: '/health/live' },
]

/**
 * A new instance answers slower than a warm one until V8 has compiled its hot paths, for several
 * seconds behind the balancer (the figures: docs/rehearsal.md, `npm run bench:warm-up`). An instance that
 * warms up before it reports ready joins the balancer warm, and pays for the compiling while it
 * still boots (on spare CPU, where the platform gives a booting task CPU of its own).
 *
 * It sends itself what the warehouse sends most, through inject(): the whole Fastify path
 * (hooks, session, authentication, validation, handler, storage, serialization)
 * without a socket. Reads are real; the writes are ones that change nothing (a claim on a
 * shipment that does not exist is taken, answered 404 and released; a shipment request without
 * a body is a 400). The session is issued in-process and deleted afterwards.
 */
export async function warmUp(app: FastifyInstance, options: WarmUpOptions): Promise<WarmUpResult> {
  const started = performance.now()
  const statuses: Record<string, number> = {}
  if (options.requests <= 0) return { requests: 0, durationMs: 0, statuses }
  // An id of its own each time: instances booting together in a deploy must not share one
  // caller's per-minute write limits (a 429 would skip the very paths being warmed).
  const session: IssuedSession = await app.issueSession({
    user: { id: `warm-up-${randomUUID()}`, email: 'warm-up@tms.invalid', roles: ['admin'] },
  })
  let sent = 0
  const lane = async () => {
    while (sent < options.requests) {
      const request = MIX[sent++ % MIX.length]!
      const response = await app.inject({ ...request, headers: { cookie: session.cookie, [WARM_UP_HEADER]: WARM_UP_MARK } })
      statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1
    }
  }
  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, lane))
  } finally {
    await session.end()
  }
  return { requests: sent, durationMs: Math.round(performance.now() - started), statuses }
}
