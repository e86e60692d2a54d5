import { setTimeout as sleep } from 'node:timers/promises'

export interface OpenModelOptions {
  /** Requests per second. */
  rate: number
  durationMs: number
  /**
   * Asked as the load runs: a later end, in ms since the start, keeps requests leaving past
   * `durationMs` at the same rate (a deploy still under way). Never ends the load earlier.
   */
  until?: () => number
  /** Sends one request; must not throw. `scheduledAt` is ms since the start. */
  fire: (scheduledAt: number) => Promise<void>
  /** Called about every `progressEveryMs` while requests leave. */
  onProgress?: (elapsedMs: number, sent: number, inFlight: number) => void
  progressEveryMs?: number
}

export interface OpenModelResult {
  /** Epoch ms of the first request. */
  startedAt: number
  sent: number
  /** When the load ended, in ms since the start: `durationMs`, or later if `until` said so. */
  endedMs: number
  /** The latest any request left after its scheduled time: the generator's own stall. */
  maxLagMs: number
}

/**
 * How early a request may leave. Timers wake to the millisecond at best; waiting out the rest by
 * yielding to the event loop over and over (as this did) spun a core at 500/s, CPU taken from the
 * cluster under test exactly at the rates that decide its capacity.
 */
export const EARLY_MS = 1

/**
 * Open-model load, as vegeta sends it: request i leaves at start + i/rate whatever became of the
 * earlier ones. A closed loop (autocannon's) waits for answers before sending more, so it
 * sends less exactly while the server stalls and under-counts the failures we hunt.
 */
export async function runOpenModel(options: OpenModelOptions): Promise<OpenModelResult> {
  const interval = 1000 / options.rate
  const endMs = () => Math.max(options.durationMs, options.until?.() ?? 0)
  // Request i is due at i * interval; those due before the end leave.
  const due = () => Math.floor((options.rate * endMs()) / 1000)
  const inFlight = new Set<Promise<void>>()
  const startedAt = Date.now()
  const t0 = performance.now()
  let sent = 0
  let maxLagMs = 0
  const progress = setInterval(
    () => options.onProgress?.(performance.now() - t0, sent, inFlight.size),
    options.progressEveryMs ?? 5000,
  )
  try {
    while (sent < due()) {
      const now = performance.now() - t0
      while (sent < due() && sent * interval <= now + EARLY_MS) {
        const scheduledAt = sent * interval
        maxLagMs = Math.max(maxLagMs, now - scheduledAt)
        const request: Promise<void> = options.fire(scheduledAt).finally(() => inFlight.delete(request))
        inFlight.add(request)
        sent++
      }
      // Never less than a timer's millisecond: the next request leaves up to EARLY_MS early instead.
      const wait = sent * interval - EARLY_MS - (performance.now() - t0)
      await sleep(Math.max(1, Math.ceil(wait)))
    }
  } finally {
    clearInterval(progress)
  }
  await Promise.all(inFlight)
  return { startedAt, sent, endedMs: (sent * 1000) / options.rate, maxLagMs }
}
