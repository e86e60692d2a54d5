export type Actor = 'agent' | 'operator' | 'partner' | 'anonymous'

/** ok: 2xx. expected: a business answer the journey plans for (a claim lost to another agent). */
export type Outcome = 'ok' | 'expected' | 'failed'

/** One request of the load, as it left and as it came back. Times in ms since the load began. */
export interface RequestRecord {
  /** When the open model scheduled it; `sentAt - scheduledAt` is the generator's own lag. */
  scheduledAt: number
  sentAt: number
  latencyMs: number
  /** A route label with ids left out, e.g. `POST /shipments/:id/claim`. */
  route: string
  actor: Actor
  /** Sent with a session (a logged-in agent or operator). */
  authenticated: boolean
  status: number
  outcome: Outcome
  /** What the expected business answer was, or why the request failed. */
  note?: string
  /** From the answering instance's x-app-version and x-instance-id. */
  version?: string
  instance?: string
  bytesIn: number
  bytesOut: number
}
