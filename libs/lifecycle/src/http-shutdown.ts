import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { Lifecycle } from './lifecycle.js'

/**
 * The longest a request may run (Fastify's requestTimeout). The deployment rules derive from it
 * (grace periods above drain + longest request: deploy/test), so it is defined once, here.
 */
export const REQUEST_TIMEOUT_MS = 60_000

/**
 * The HTTP half of a zero-downtime stop, in the order a load balancer needs:
 * 1. (already done by Lifecycle) readiness answers 503;
 * 2. keep serving for `drainDelayMs` so the load balancer notices and moves traffic away;
 * 3. stop accepting, let in-flight requests finish, close idle keep-alive connections.
 */
export function addHttpShutdownSteps(lifecycle: Lifecycle, app: FastifyInstance, drainDelayMs: number): void {
  const inFlight = () => `${app.requestsInFlight()} requests in flight`
  // Both go ahead of any step added before (closing Redis or the database): stop serving first.
  lifecycle.addShutdownStep({ name: 'http server', run: () => app.close(), describePending: inFlight }, 'first')
  lifecycle.addShutdownStep({ name: 'drain', run: () => sleep(drainDelayMs), describePending: inFlight }, 'first')
}
