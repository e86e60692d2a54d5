import { randomBytes } from 'node:crypto'
import { type Call, cookieFrom, type HttpClient, type Reply } from './http-client.js'
import { inBatches } from './in-batches.js'
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

/** The model refurbishment batches and partners' devices are of. */
const TG5 = { modelNumber: 'TG5', hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE' } as const
/** Devices a partner registers at once: one masterbox. */
const DEVICES_PER_MASTERBOX = 10
/** Of the journeys an agent starts, this share is a refurbishment batch rather than a shipment. */
const BATCH_JOURNEYS = 0.25

/**
 * An old version (`--from` a commit before devices existed) answers the new routes with its
 * 404 "no route for": expected while it still serves, never from the version that has them.
 */
const notInThisVersionYet = (reply: Reply) =>
  reply.status === 404 && /^no route for /.test(String((reply.body as { message?: unknown } | undefined)?.message))
    ? 'not in this version yet'
    : undefined

type AgentStep =
  | { step: 'login' }
  | { step: 'list' }
  | { step: 'claim' | 'extend' | 'view' | 'pack' | 'ship'; shipmentId: string }
  | { step: 'counts' }
  | BatchStep

type BatchStep =
  | { step: 'batch-list' }
  | { step: 'batch-claim' | 'batch-add' | 'batch-pack' | 'batch-ship' | 'batch-release'; batchId: string }

type OperatorStep =
  | 'login'
  | 'create'
  | 'read-back'
  | 'create-2'
  | 'jobs'
  | 'batch'
  | 'create-3'
  | 'list'
  | 'fix-find'
  | 'fix-apply'
const OPERATOR_CYCLE: OperatorStep[] = [
  'create',
  'read-back',
  'create-2',
  'jobs',
  'batch',
  'create-3',
  'list',
  'fix-find',
  'fix-apply',
]

type PartnerStep = 'setup' | 'login' | 'register' | 'list'

interface Person {
  kind: 'agent' | 'operator' | 'partner'
  email: string
  password: string
  /** The session cookie; none before login and after a logout. */
  cookie?: string | undefined
  /** A request of this person is in flight: people do one thing at a time. */
  busy: boolean
}
interface AgentPerson extends Person {
  at: AgentStep
}
interface OperatorPerson extends Person {
  at: OperatorStep
  lastCreated?: string | undefined
  /** A request that needs fixing, found by the last fix-find. */
  toFix?: { id: string; version: number } | undefined
}
interface PartnerPerson extends Person {
  at: PartnerStep
  lastMasterbox?: string
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

  /** Masterboxes partners registered whose devices no batch has taken yet (agents take them). */
  readonly freshMasterboxes: string[] = []
  readonly createdBatches = new Set<string>()
  /** batch id -> tracking number it shipped with (200). */
  readonly shippedBatches = new Map<string, string>()
  registeredDevices = 0
  fixedRequests = 0

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
  readonly #partners: PartnerPerson[]
  #startedAt = Date.now()
  #orders = 0
  #masterboxes = 0

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
    if (actor === 'agent') return this.#agentTurn(scheduledAt)
    if (actor === 'operator') return this.#operatorTurn(scheduledAt)
    if (actor === 'partner') return this.#partnerTurn(scheduledAt)
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
        if (this.ledger.freshMasterboxes.length > 0 && this.#options.random() < BATCH_JOURNEYS) {
          this.#goto(agent, { step: 'batch-list' })
        } else if (reply.status === 200 && items.length > 0) {
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
      default:
        return this.#batchStep(agent, at, send)
    }
  }

  /** An agent filling a refurbishment batch from a partner's masterbox, packing and shipping it. */
  async #batchStep(
    agent: AgentPerson,
    at: BatchStep,
    send: (route: string, call: Call, expected?: (reply: Reply) => string | undefined) => Promise<Reply>,
  ): Promise<void> {
    const expectedOr = (why: (r: Reply) => string | undefined) => (r: Reply) => notInThisVersionYet(r) ?? why(r)
    if (at.step === 'batch-list') {
      const reply = await send(
        'GET /refurbishment-batches?status=OPEN',
        { method: 'GET', path: '/refurbishment-batches?status=OPEN&limit=10' },
        notInThisVersionYet,
      )
      const items = (reply.body as { items?: Array<{ id: string }> } | undefined)?.items ?? []
      const batch = items[Math.floor(this.#options.random() * items.length)]
      this.#goto(agent, reply.status === 200 && batch ? { step: 'batch-claim', batchId: batch.id } : { step: 'list' })
      return
    }
    const path = `/refurbishment-batches/${at.batchId}`
    const held = (r: Reply) => (r.status === 409 ? 'batch held, or moved on, by another agent' : undefined)
    if (at.step === 'batch-claim') {
      const reply = await send(
        'POST /refurbishment-batches/:id/claim',
        { method: 'POST', path: `${path}/claim` },
        expectedOr(held),
      )
      this.#goto(agent, reply.status === 200 ? { step: 'batch-add', batchId: at.batchId } : { step: 'list' })
    } else if (at.step === 'batch-add' && this.ledger.freshMasterboxes.length > 0) {
      const masterboxId = this.ledger.freshMasterboxes.shift()!
      const reply = await send(
        'POST /refurbishment-batches/:id/devices',
        { method: 'POST', path: `${path}/devices`, body: { masterboxId } },
        expectedOr(held),
      )
      this.#goto(agent, { step: reply.status === 200 ? 'batch-pack' : 'batch-release', batchId: at.batchId })
    } else if (at.step === 'batch-pack') {
      const reply = await send('POST /refurbishment-batches/:id/pack', { method: 'POST', path: `${path}/pack` }, expectedOr(held))
      this.#goto(agent, { step: reply.status === 200 ? 'batch-ship' : 'batch-release', batchId: at.batchId })
    } else if (at.step === 'batch-ship') {
      const trackingNumber = `REF-${randomBytes(6).toString('hex').toUpperCase()}`
      const reply = await send(
        'POST /refurbishment-batches/:id/ship',
        { method: 'POST', path: `${path}/ship`, body: { trackingNumber } },
        expectedOr(held),
      )
      if (reply.status === 200) this.ledger.shippedBatches.set(at.batchId, trackingNumber)
      this.#goto(agent, { step: 'batch-release', batchId: at.batchId })
    } else {
      // batch-release, or batch-add with every fresh masterbox taken by other agents meanwhile:
      // the turn still sends its one request.
      await send('DELETE /refurbishment-batches/:id/claim', { method: 'DELETE', path: `${path}/claim` }, notInThisVersionYet)
      this.#goto(agent, { step: 'list' })
    }
  }

  /** A manufacturing partner: registers a masterbox of devices, looks it up, again. */
  async #partnerTurn(scheduledAt: number): Promise<void> {
    const { person: partner, idle } = this.#pick(this.#partners)
    if (!idle)
      return void (await this.#send(scheduledAt, 'anonymous', undefined, 'GET /health/live', {
        method: 'GET',
        path: '/health/live',
      }))
    partner.busy = true
    try {
      const send = (route: string, call: Call, expected?: (reply: Reply) => string | undefined) =>
        this.#send(scheduledAt, 'partner', partner, route, call, expected)
      if (partner.at === 'setup') {
        // The admin makes the partner's account; an old version knows no partner role (400).
        const reply = await this.#send(
          scheduledAt,
          'operator',
          undefined,
          'POST /users',
          {
            method: 'POST',
            path: '/users',
            ...(this.adminCookie ? { cookie: this.adminCookie } : {}),
            body: { email: partner.email, password: partner.password, roles: ['partner'] },
          },
          (r) =>
            r.status === 400 && /body\.roles\.0 must be one of/.test(messageOf(r))
              ? 'no partner role in this version yet'
              : r.status === 409
                ? 'already made'
                : undefined,
        )
        if (reply.status === 201 || reply.status === 409) partner.at = 'login'
      } else if (partner.at === 'login') {
        await this.#login(scheduledAt, partner)
        if (partner.cookie) partner.at = 'register'
      } else if (partner.at === 'register') {
        const masterboxId = `MB-${this.#options.runId.replaceAll('_', '-')}-${++this.#masterboxes}`.slice(0, 40)
        const devices = Array.from({ length: DEVICES_PER_MASTERBOX }, (_, i) => ({
          deviceId: `${masterboxId}-D${i}`.slice(-40),
          ...TG5,
          innerboxId: `${masterboxId}-I${Math.floor(i / 5)}`.slice(-40),
          masterboxId,
        }))
        const reply = await send('POST /devices', { method: 'POST', path: '/devices', body: { devices } }, notInThisVersionYet)
        if (reply.status === 200) {
          this.ledger.registeredDevices += (reply.body as { registered: number }).registered
          this.ledger.freshMasterboxes.push(masterboxId)
          partner.lastMasterbox = masterboxId
          partner.at = 'list'
        }
      } else {
        // During a deploy from an old version, the next request may meet an instance that has
        // no devices yet.
        await send(
          'GET /devices?masterboxId=',
          { method: 'GET', path: `/devices?masterboxId=${partner.lastMasterbox}&limit=20` },
          notInThisVersionYet,
        )
        partner.at = 'register'
      }
    } finally {
      partner.busy = false
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
      } else if (step === 'batch') {
        const reply = await this.#send(
          scheduledAt,
          'operator',
          operator,
          'POST /refurbishment-batches',
          { method: 'POST', path: '/refurbishment-batches', body: { description: `rehearsal ${this.#options.runId}`, ...TG5 } },
          notInThisVersionYet,
        )
        if (reply.status === 201) this.ledger.createdBatches.add((reply.body as { id: string }).id)
      } else if (step === 'fix-find') {
        const reply = await this.#send(
          scheduledAt,
          'operator',
          operator,
          'GET /shipment-requests?readiness=NEEDS_FIX',
          { method: 'GET', path: '/shipment-requests?status=OPEN&readiness=NEEDS_FIX&limit=5' },
          // An old version refuses the readiness filter it does not know.
          (r) =>
            r.status === 400 && /querystring\.readiness is not an allowed field/.test(messageOf(r))
              ? 'no readiness filter in this version yet'
              : undefined,
        )
        const items = (reply.body as { items?: Array<{ id: string; version?: number }> } | undefined)?.items ?? []
        const pick = items[Math.floor(this.#options.random() * items.length)]
        operator.toFix = pick?.version ? { id: pick.id, version: pick.version } : undefined
      } else if (step === 'fix-apply' && operator.toFix) {
        const { id, version } = operator.toFix
        operator.toFix = undefined
        const fix = this.#shipmentRequest()
        const reply = await this.#send(
          scheduledAt,
          'operator',
          operator,
          'PATCH /shipment-requests/:id',
          {
            method: 'PATCH',
            path: `/shipment-requests/${id}`,
            body: { version, items: fix.items, address: { ...fix.address, country: 'AT' } },
          },
          // Another operator (or the bulk creation) got there first.
          (r) => notInThisVersionYet(r) ?? (r.status === 409 ? 'fixed or shipped meanwhile' : undefined),
        )
        if (reply.status === 200) this.ledger.fixedRequests++
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
      else if (person.kind === 'operator') (person as OperatorPerson).at = 'login'
      else (person as PartnerPerson).at = 'login'
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
