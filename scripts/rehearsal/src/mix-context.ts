import type { Call, Reply } from './http-client.js'
import type { Ledger } from './ledger.js'
import type { Actor } from './request-record.js'

/** The model refurbishment batches and partners' devices are of. */
export const TG5 = { modelNumber: 'TG5', hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE' } as const

/** Someone of the load who logs in and does one thing at a time. */
export interface Person {
  kind: 'agent' | 'operator' | 'partner'
  email: string
  password: string
  /** The session cookie; none before login and after a logout. */
  cookie?: string | undefined
  /** A request of this person is in flight: people do one thing at a time. */
  busy: boolean
}

/** Why a non-2xx answer was what the run expected (counted apart), or undefined when it was not. */
export type Expected = (reply: Reply) => string | undefined

/** A shipment request as an operator or the web shop sends it. */
export interface ShipmentRequestBody {
  orderId: string
  items: Array<{ sku: string; quantity: number }>
  address: { name: string; street: string; city: string; postalCode: string; country: string }
}

/** What each persona's turn needs of the mix: sending and recording, the ledger, the dice. */
export interface MixContext {
  readonly ledger: Ledger
  readonly runId: string
  /** The admin's session (the partners' accounts are made with it during the load). */
  readonly adminCookie: string | undefined
  random(): number
  /** Sends one request as `person` (or nobody) and records it; a 401 on a session is a lost session. */
  send(
    scheduledAt: number,
    actor: Actor,
    person: Person | undefined,
    route: string,
    call: Call,
    expected?: Expected,
  ): Promise<Reply>
  login(scheduledAt: number, person: Person): Promise<void>
  shipmentRequest(): ShipmentRequestBody
  /** The run's next masterbox number: partners' masterbox ids never repeat within a run. */
  nextMasterbox(): number
}

/** A person's requests in one turn: each sent at the turn's scheduled time and recorded as theirs. */
export type PersonSend = (route: string, call: Call, expected?: Expected) => Promise<Reply>

export const sendAs =
  (mix: MixContext, scheduledAt: number, person: Person): PersonSend =>
  (route, call, expected) =>
    mix.send(scheduledAt, person.kind, person, route, call, expected)

/**
 * An old version (`--from` a commit before devices existed) answers the new routes with its
 * 404 "no route for": expected while it still serves, never from the version that has them.
 */
export const notInThisVersionYet: Expected = (reply) =>
  reply.status === 404 && /^no route for /.test(String((reply.body as { message?: unknown } | undefined)?.message))
    ? 'not in this version yet'
    : undefined

export function messageOf(reply: Reply): string {
  const message = (reply.body as { message?: unknown } | undefined)?.message
  return `${reply.status} ${typeof message === 'string' ? message : ''}`.trim()
}

export function describe(reply: Reply): string {
  return reply.error ?? messageOf(reply)
}

/** Someone idle, starting from a random one; when everyone is busy, a random busy one. */
export function pickIdle<P extends Person>(people: P[], random: () => number): { person: P; idle: boolean } {
  const start = Math.floor(random() * people.length)
  for (let i = 0; i < people.length; i++) {
    const person = people[(start + i) % people.length]!
    if (!person.busy) return { person, idle: true }
  }
  return { person: people[start]!, idle: false }
}

/** Marks `person` busy while `work` runs: people do one thing at a time. */
export async function whileBusy(person: Person, work: () => Promise<void>): Promise<void> {
  person.busy = true
  try {
    await work()
  } finally {
    person.busy = false
  }
}
