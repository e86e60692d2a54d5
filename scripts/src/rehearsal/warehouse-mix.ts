import { randomBytes } from 'node:crypto'
import { type Call, cookieFrom, type HttpClient, type Reply } from './http-client.js'
import { inBatches } from './in-batches.js'
import type { Actor, RequestRecord } from './request-record.js'

const SKUS = ['TRK-DOG-4', 'TRK-DOG-4-BROWN', 'TRK-CAT-4', 'TRK-DOG-XL', 'COLLAR-M', 'COLLAR-L', 'CHARGER-USB-C']
const COUNTRIES = ['DE', 'FR', 'NL', 'AT', 'GB', 'US', 'ES']

/** Shares of the load: most requests are agents at packing stations. */
const MIX: Array<[Actor, number]> = [
  ['agent', 0.65],
  ['operator', 0.25],
  ['anonymous', 0.1],
]

type AgentStep =
  | { step: 'login' }
  | { step: 'list' }
  | { step: 'claim' | 'extend' | 'view' | 'pack' | 'ship'; shipmentId: string }
  | { step: 'counts' }

type OperatorStep = 'login' | 'create' | 'read-back' | 'create-2' | 'jobs' | 'create-3' | 'list'
const OPERATOR_CYCLE: OperatorStep[] = ['create', 'read-back', 'create-2', 'jobs', 'create-3', 'list']

interface Person {
  kind: 'agent' | 'operator'
  email: string
  password: string
  cookie?: string
  /** A request of this person is in flight: people do one thing at a time. */
  busy: boolean
}
interface AgentPerson extends Person {
  at: AgentStep
}
interface OperatorPerson extends Person {
  at: OperatorStep
  lastCreated?: string
}

/**
 * What the load did that must still hold afterwards: every write the API acknowledged, every
 * pack (a shipment is packed once), every claim (one holder at a time), every lost session.
 */
export class Ledger {
  readonly createdRequests = new Map<string, string>()
  /** shipment id -> the agents who got 200 packing it (more than one is a double pack). */
  readonly packs = new Map<string, string[]>()
  readonly shipped = new Map<string, string>()
  readonly doubleClaims: Array<{ shipmentId: string; holders: [string, string] }> = []
  readonly sessionLosses: Array<{ at: number; email: string; route: string; instance?: string }> = []
  readonly #holders = new Map<string, string>()

  claimed(shipmentId: string, agent: string): void {
    const holder = this.#holders.get(shipmentId)
    if (holder && holder !== agent) this.doubleClaims.push({ shipmentId, holders: [holder, agent] })
    this.#holders.set(shipmentId, agent)
  }

  letGo(shipmentId: string, agent: string): void {
    if (this.#holders.get(shipmentId) === agent) this.#holders.delete(shipmentId)
  }

  packed(shipmentId: string, agent: string): void {
    this.packs.set(shipmentId, [...(this.packs.get(shipmentId) ?? []), agent])
    this.letGo(shipmentId, agent)
  }
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
  #startedAt = Date.now()
  #orders = 0

  constructor(options: MixOptions) {
    this.#options = options
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
  }

  get people(): { agents: number; operators: number } {
    return { agents: this.#agents.length, operators: this.#operators.length }
  }

  /** The agents' sessions, to check afterwards that nobody was logged out. */
  get sessions(): Array<{ email: string; cookie: string | undefined }> {
    return [...this.#agents, ...this.#operators].map((p) => ({ email: p.email, cookie: p.cookie }))
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
    if (actor === 'agent') return this.#agentTurn(scheduledAt)
    if (actor === 'operator') return this.#operatorTurn(scheduledAt)
    return this.#send(scheduledAt, 'anonymous', undefined, 'GET /health/live', { method: 'GET', path: '/health/live' }).then(
      () => undefined,
    )
  }

  #pick<P extends Person>(people: P[]): { person: P; idle: boolean } {
    const start = Math.floor(this.#options.random() * people.length)
    for (let i = 0; i < people.length; i++) {
      const person = people[(start + i) % people.length]!
      if (!person.busy) return { person, idle: true }
    }
    return { person: people[start]!, idle: false }
  }

  async #agentTurn(scheduledAt: number): Promise<void> {
    const { person: agent, idle } = this.#pick(this.#agents)
    if (!idle) {
      // Every agent is waiting for an answer (a stall): the request still leaves on time, as
      // a read that does not move anyone's journey on.
      await this.#send(scheduledAt, 'agent', agent, 'GET /shipments/counts', { method: 'GET', path: '/shipments/counts' })
      return
    }
    agent.busy = true
    try {
      await this.#agentStep(scheduledAt, agent)
    } finally {
      agent.busy = false
    }
  }

  async #agentStep(scheduledAt: number, agent: AgentPerson): Promise<void> {
    const at = agent.at
    const send = (route: string, call: Call, expected?: (reply: Reply) => string | undefined) =>
      this.#send(scheduledAt, 'agent', agent, route, call, expected)
    switch (at.step) {
      case 'login': {
        await this.#login(scheduledAt, agent)
        this.#goto(agent, { step: 'list' })
        return
      }
      case 'list': {
        const reply = await send('GET /shipments?status=PENDING', {
          method: 'GET',
          path: '/shipments?status=PENDING&limit=50',
        })
        const items = (reply.body as { items?: Array<{ id: string }> } | undefined)?.items ?? []
        if (reply.status === 200 && items.length > 0) {
          this.#goto(agent, { step: 'claim', shipmentId: items[Math.floor(this.#options.random() * items.length)]!.id })
        }
        return
      }
      case 'claim': {
        const reply = await send(
          'POST /shipments/:id/claim',
          { method: 'POST', path: `/shipments/${at.shipmentId}/claim` },
          (r) => (r.status === 409 ? 'claim lost to another agent' : undefined),
        )
        if (reply.status === 200) {
          this.ledger.claimed(at.shipmentId, agent.email)
          this.#goto(agent, { step: 'extend', shipmentId: at.shipmentId })
        } else this.#goto(agent, { step: 'list' })
        return
      }
      case 'extend':
      case 'view': {
        const reply =
          at.step === 'extend'
            ? await send('POST /shipments/:id/claim/extend', { method: 'POST', path: `/shipments/${at.shipmentId}/claim/extend` })
            : await send('GET /shipments/:id', { method: 'GET', path: `/shipments/${at.shipmentId}` })
        this.#advance(agent, reply, { step: at.step === 'extend' ? 'view' : 'pack', shipmentId: at.shipmentId })
        return
      }
      case 'pack': {
        const reply = await send('POST /shipments/:id/pack', { method: 'POST', path: `/shipments/${at.shipmentId}/pack` })
        if (reply.status === 200) this.ledger.packed(at.shipmentId, agent.email)
        this.#advance(agent, reply, { step: 'ship', shipmentId: at.shipmentId })
        return
      }
      case 'ship': {
        const trackingNumber = `TRK-${randomBytes(6).toString('hex').toUpperCase()}`
        const reply = await send('POST /shipments/:id/ship', {
          method: 'POST',
          path: `/shipments/${at.shipmentId}/ship`,
          body: { trackingNumber },
        })
        if (reply.status === 200) this.ledger.shipped.set(at.shipmentId, trackingNumber)
        this.#advance(agent, reply, { step: 'counts' })
        return
      }
      case 'counts': {
        await send('GET /shipments/counts', { method: 'GET', path: '/shipments/counts' })
        this.#goto(agent, { step: 'list' })
        return
      }
    }
  }

  /** On to the next step; after a failure, back to the list (the claim lapses on its own). */
  #advance(agent: AgentPerson, reply: Reply, next: AgentStep): void {
    const ok = reply.status >= 200 && reply.status < 300
    if (!ok && 'shipmentId' in agent.at) this.ledger.letGo(agent.at.shipmentId, agent.email)
    this.#goto(agent, ok ? next : { step: 'list' })
  }

  /** A person whose session was lost logs in again first. */
  #goto(agent: AgentPerson, next: AgentStep): void {
    agent.at = agent.cookie ? next : { step: 'login' }
  }

  async #operatorTurn(scheduledAt: number): Promise<void> {
    const { person: operator, idle } = this.#pick(this.#operators)
    if (!idle) {
      await this.#send(scheduledAt, 'operator', operator, 'GET /admin/jobs', { method: 'GET', path: '/admin/jobs' })
      return
    }
    operator.busy = true
    try {
      const send = (route: string, call: Call) => this.#send(scheduledAt, 'operator', operator, route, call)
      const step = operator.at
      if (step === 'login') {
        await this.#login(scheduledAt, operator)
        if (operator.cookie) operator.at = 'create'
        return
      }
      operator.at = OPERATOR_CYCLE[(OPERATOR_CYCLE.indexOf(step) + 1) % OPERATOR_CYCLE.length]!
      if (step.startsWith('create')) {
        const body = this.#shipmentRequest()
        const reply = await send('POST /shipment-requests', { method: 'POST', path: '/shipment-requests', body })
        if (reply.status === 201) {
          const id = (reply.body as { id: string }).id
          this.ledger.createdRequests.set(id, body.orderId)
          operator.lastCreated = id
        }
      } else if (step === 'read-back' && operator.lastCreated) {
        // Read your own write, probably from another instance than the one that took it.
        await send('GET /shipment-requests/:id', { method: 'GET', path: `/shipment-requests/${operator.lastCreated}` })
      } else if (step === 'jobs') {
        await send('GET /admin/jobs', { method: 'GET', path: '/admin/jobs' })
      } else {
        await send('GET /shipment-requests?status=OPEN', { method: 'GET', path: '/shipment-requests?status=OPEN&limit=20' })
      }
    } finally {
      operator.busy = false
    }
  }

  async #login(scheduledAt: number, person: Person): Promise<void> {
    const reply = await this.#send(scheduledAt, person.kind, undefined, 'POST /auth/login', {
      method: 'POST',
      path: '/auth/login',
      body: { email: person.email, password: person.password },
    })
    if (reply.status === 200) person.cookie = cookieFrom(reply)
  }

  #shipmentRequest() {
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
  async #send(
    scheduledAt: number,
    actor: Actor,
    person: Person | undefined,
    route: string,
    call: Call,
    expected?: (reply: Reply) => string | undefined,
  ): Promise<Reply> {
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
      this.ledger.sessionLosses.push({
        at: sentAt,
        email: person.email,
        route,
        ...(record.instance ? { instance: record.instance } : {}),
      })
      // Logged out: the person has to log in again, as someone at a packing station would.
      person.cookie = undefined
      if (person.kind === 'agent') (person as AgentPerson).at = { step: 'login' }
      else (person as OperatorPerson).at = 'login'
    }
    return reply
  }
}

function messageOf(reply: Reply): string {
  const message = (reply.body as { message?: unknown } | undefined)?.message
  return `${reply.status} ${typeof message === 'string' ? message : ''}`.trim()
}

function describe(reply: Reply): string {
  return reply.error ?? messageOf(reply)
}
