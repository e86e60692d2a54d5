import { randomBytes } from 'node:crypto'
import { type AgentPerson, agentTurn } from './agent-persona.js'
import { cookieFrom, type HttpClient } from './http-client.js'
import { inBatches } from './in-batches.js'
import { Ledger } from './ledger.js'
import { describe, type MixContext, messageOf, type Person, type ShipmentRequestBody } from './mix-context.js'
import { type OperatorPerson, operatorTurn } from './operator-persona.js'
import { type PartnerPerson, partnerTurn } from './partner-persona.js'
import type { Actor, RequestRecord } from './request-record.js'

const SKUS = ['TRK-DOG-4', 'TRK-DOG-4-BROWN', 'TRK-CAT-4', 'TRK-DOG-XL', 'COLLAR-M', 'COLLAR-L', 'CHARGER-USB-C']
const COUNTRIES = ['DE', 'FR', 'NL', 'AT', 'GB', 'US', 'ES']

/** Shares of the load: most requests are agents at packing stations. */
const MIX: Array<[Actor, number]> = [
  ['agent', 0.6],
  ['operator', 0.23],
  ['partner', 0.07],
  ['anonymous', 0.1],
]

/** Where a person starts again after a lost session: at the login. */
function loggedOut(person: AgentPerson | OperatorPerson | PartnerPerson): void {
  person.cookie = undefined
  if (person.kind === 'agent') person.at = { step: 'login' }
  else person.at = 'login'
}

export interface MixOptions {
  client: HttpClient
  /** Names the run's users and orders, so runs against a shared environment never collide. */
  runId: string
  rate: number
  admin: { email: string; password: string }
  random: () => number
  log: (line: string) => void
}

/**
 * The rehearsal's load: virtual warehouse agents who log in once and then list pending
 * shipments, claim one, extend the claim, look at it, pack it and ship it; operators creating
 * shipment requests, reading them back, watching jobs; anonymous health checks. Each call
 * of fire() sends exactly one request, whatever happened to earlier ones (the open model).
 */
export class WarehouseMix {
  readonly records: RequestRecord[] = []
  readonly ledger = new Ledger()
  /** The admin's session, for the checks afterwards. */
  adminCookie: string | undefined
  readonly #options: MixOptions
  readonly #agents: AgentPerson[]
  readonly #operators: OperatorPerson[]
  readonly #partners: PartnerPerson[]
  #startedAt = Date.now()
  #orders = 0
  #masterboxes = 0
  /** What the personas' turns may use of the mix (agent-, operator-, partner-persona.ts). */
  readonly #context: MixContext

  constructor(options: MixOptions) {
    this.#options = options
    const mix = this
    this.#context = {
      ledger: this.ledger,
      runId: options.runId,
      get adminCookie() {
        return mix.adminCookie
      },
      random: options.random,
      send: (...args) => this.#send(...args),
      login: (scheduledAt, person) => this.#login(scheduledAt, person),
      shipmentRequest: () => this.#shipmentRequest(),
      nextMasterbox: () => ++this.#masterboxes,
    }
    const password = randomBytes(12).toString('hex')
    const people = <K extends Person['kind']>(kind: K, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        kind,
        email: `${options.runId}.${kind}${i}@rehearsal.test`,
        password,
        busy: false,
      }))
    this.#agents = people('agent', Math.max(8, Math.ceil(options.rate / 10))).map((p) => ({ ...p, at: { step: 'login' } }))
    this.#operators = people('operator', Math.max(2, Math.ceil(options.rate / 60))).map((p) => ({ ...p, at: 'login' }))
    // Made by the admin during the load (setup): a version from before partners existed refuses them.
    this.#partners = people('partner', 2).map((p) => ({ ...p, at: 'setup' }))
  }

  get people(): { agents: number; operators: number; partners: number } {
    return { agents: this.#agents.length, operators: this.#operators.length, partners: this.#partners.length }
  }

  /** The agents' sessions, to check afterwards that nobody was logged out. */
  get sessions(): Array<{ email: string; cookie: string | undefined }> {
    // Partners are made during the load (and not at all while an old version serves): those logged in.
    const partners = this.#partners.filter((p) => p.cookie)
    return [...this.#agents, ...this.#operators, ...partners].map((p) => ({ email: p.email, cookie: p.cookie }))
  }

  /** A fresh admin session (the checks afterwards use one: the load's may be gone by design). */
  async loginAdmin(): Promise<string | undefined> {
    const { client, admin } = this.#options
    const login = await client.send({ method: 'POST', path: '/auth/login', body: admin })
    if (login.status !== 200) throw new Error(`the admin login failed (${describe(login)}): set ADMIN_EMAIL and ADMIN_PASSWORD`)
    this.adminCookie = cookieFrom(login)
    return this.adminCookie
  }

  /**
   * Before the load: the run's users (created by the admin) log in, and `seed` shipment
   * requests are turned into pending shipments, so agents have work from the first second.
   */
  async prepare(seed: number): Promise<void> {
    const { client, log } = this.#options
    const cookie = await this.loginAdmin()
    await inBatches<Person>([...this.#agents, ...this.#operators], 8, async (person) => {
      const created = await client.send({
        method: 'POST',
        path: '/users',
        cookie,
        body: { email: person.email, password: person.password, roles: [person.kind] },
      })
      if (created.status !== 201) throw new Error(`creating ${person.email} failed: ${describe(created)}`)
      const reply = await client.send({
        method: 'POST',
        path: '/auth/login',
        body: { email: person.email, password: person.password },
      })
      if (reply.status !== 200) throw new Error(`${person.email} could not log in: ${describe(reply)}`)
      person.cookie = cookieFrom(reply)
    })
    for (const agent of this.#agents) agent.at = { step: 'list' }
    for (const operator of this.#operators) operator.at = 'create'
    log(`${this.#agents.length} agents and ${this.#operators.length} operators logged in`)

    const operator = this.#operators[0]!
    await inBatches(Array.from({ length: seed }), 8, async () => {
      const reply = await client.send({
        method: 'POST',
        path: '/shipment-requests',
        cookie: operator.cookie,
        body: this.#shipmentRequest(),
      })
      if (reply.status !== 201) throw new Error(`seeding a shipment request failed: ${describe(reply)}`)
    })
    // The create-shipments job turns them into shipments on its next tick; ask for a run now
    // too, in case its interval is long (an existing environment).
    await client.send({ method: 'POST', path: '/shipments/bulk', cookie: operator.cookie })
    const until = Date.now() + 60_000
    for (;;) {
      const counts = await client.send({ method: 'GET', path: '/shipments/counts', cookie: operator.cookie })
      const pending = (counts.body as { PENDING?: number } | undefined)?.PENDING ?? 0
      if (pending >= seed) break
      if (Date.now() > until) throw new Error(`only ${pending} of ${seed} seeded shipments became pending in 60 s`)
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    log(`${seed} shipments pending`)
  }

  /** From now on, record times count from this moment. */
  begin(startedAt: number): void {
    this.#startedAt = startedAt
  }

  /** One request of the load, by whoever's turn it is. */
  fire(scheduledAt: number): Promise<void> {
    const roll = this.#options.random()
    let actor: Actor = 'anonymous'
    let sum = 0
    for (const [kind, share] of MIX) {
      sum += share
      if (roll < sum) {
        actor = kind
        break
      }
    }
    if (actor === 'agent') return agentTurn(this.#context, this.#agents, scheduledAt)
    if (actor === 'operator') return operatorTurn(this.#context, this.#operators, scheduledAt)
    if (actor === 'partner') return partnerTurn(this.#context, this.#partners, scheduledAt)
    return this.#send(scheduledAt, 'anonymous', undefined, 'GET /health/live', { method: 'GET', path: '/health/live' }).then(
      () => undefined,
    )
  }

  async #login(scheduledAt: number, person: Person): Promise<void> {
    const reply = await this.#send(scheduledAt, person.kind, undefined, 'POST /auth/login', {
      method: 'POST',
      path: '/auth/login',
      body: { email: person.email, password: person.password },
    })
    if (reply.status === 200) person.cookie = cookieFrom(reply)
  }

  #shipmentRequest(): ShipmentRequestBody {
    const random = this.#options.random
    const items = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
      sku: SKUS[Math.floor(random() * SKUS.length)]!,
      quantity: 1 + Math.floor(random() * 3),
    }))
    return {
      orderId: `${this.#options.runId}-${++this.#orders}`,
      items,
      address: {
        name: 'Rehearsal Customer',
        street: `Lagerstrasse ${1 + Math.floor(random() * 200)}`,
        city: 'Berlin',
        postalCode: '10115',
        country: COUNTRIES[Math.floor(random() * COUNTRIES.length)]!,
      },
    }
  }

  /** Sends one request and records it; a 401 on a session is a lost session (and a new login). */
  readonly #send: MixContext['send'] = async (scheduledAt, actor, person, route, call, expected) => {
    const sentAt = Date.now() - this.#startedAt
    const began = performance.now()
    const reply = await this.#options.client.send(person?.cookie ? { ...call, cookie: person.cookie } : call)
    const latencyMs = performance.now() - began
    const authenticated = person?.cookie !== undefined
    const note = reply.status >= 200 && reply.status < 300 ? undefined : expected?.(reply)
    const record: RequestRecord = {
      scheduledAt,
      sentAt,
      latencyMs,
      route,
      actor,
      authenticated,
      status: reply.status,
      outcome: reply.status >= 200 && reply.status < 300 ? 'ok' : note ? 'expected' : 'failed',
      bytesIn: reply.bytesIn,
      bytesOut: reply.bytesOut,
    }
    if (note) record.note = note
    else if (record.outcome === 'failed') record.note = reply.error ?? messageOf(reply)
    const version = reply.headers['x-app-version']
    const instance = reply.headers['x-instance-id']
    if (typeof version === 'string') record.version = version
    if (typeof instance === 'string') record.instance = instance
    this.records.push(record)
    // A balancer's stickiness cookie may change with any answer; the session cookie only at login.
    if (person?.cookie) person.cookie = cookieFrom(reply, person.cookie)
    if (reply.status === 401 && person && authenticated) {
      this.ledger.sessionLosses.push({ at: sentAt, email: person.email, route, instance: record.instance })
      // Logged out: the person has to log in again, as someone at a packing station would. Every
      // person of the mix is one of the three personas.
      loggedOut(person as AgentPerson | OperatorPerson | PartnerPerson)
    }
    return reply
  }
}
