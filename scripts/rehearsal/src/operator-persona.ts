import { type MixContext, messageOf, notInThisVersionYet, type Person, pickIdle, sendAs, TG5, whileBusy } from './mix-context.js'

export type OperatorStep =
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

/** An operator in the office: creates shipment requests, fixes them, makes batches, watches jobs. */
export interface OperatorPerson extends Person {
  kind: 'operator'
  at: OperatorStep
  lastCreated?: string | undefined
  /** A request that needs fixing, found by the last fix-find. */
  toFix?: { id: string; version: number } | undefined
}

/** One request of an operator's cycle; when every operator is busy, a look at the jobs. */
export async function operatorTurn(mix: MixContext, operators: OperatorPerson[], scheduledAt: number): Promise<void> {
  const { person: operator, idle } = pickIdle(operators, () => mix.random())
  if (!idle) {
    await mix.send(scheduledAt, 'operator', operator, 'GET /admin/jobs', { method: 'GET', path: '/admin/jobs' })
    return
  }
  await whileBusy(operator, () => operatorStep(mix, operator, scheduledAt))
}

async function operatorStep(mix: MixContext, operator: OperatorPerson, scheduledAt: number): Promise<void> {
  const send = sendAs(mix, scheduledAt, operator)
  const step = operator.at
  if (step === 'login') {
    await mix.login(scheduledAt, operator)
    if (operator.cookie) operator.at = 'create'
    return
  }
  operator.at = OPERATOR_CYCLE[(OPERATOR_CYCLE.indexOf(step) + 1) % OPERATOR_CYCLE.length]!
  if (step.startsWith('create')) {
    const body = mix.shipmentRequest()
    const reply = await send('POST /shipment-requests', { method: 'POST', path: '/shipment-requests', body })
    if (reply.status === 201) {
      const id = (reply.body as { id: string }).id
      mix.ledger.createdRequests.set(id, body.orderId)
      operator.lastCreated = id
    }
  } else if (step === 'read-back' && operator.lastCreated) {
    // Read your own write, probably from another instance than the one that took it.
    await send('GET /shipment-requests/:id', { method: 'GET', path: `/shipment-requests/${operator.lastCreated}` })
  } else if (step === 'jobs') {
    await send('GET /admin/jobs', { method: 'GET', path: '/admin/jobs' })
  } else if (step === 'batch') {
    const reply = await send(
      'POST /refurbishment-batches',
      { method: 'POST', path: '/refurbishment-batches', body: { description: `rehearsal ${mix.runId}`, ...TG5 } },
      notInThisVersionYet,
    )
    if (reply.status === 201) mix.ledger.createdBatches.add((reply.body as { id: string }).id)
  } else if (step === 'fix-find') {
    const reply = await send(
      'GET /shipment-requests?readiness=NEEDS_FIX',
      { method: 'GET', path: '/shipment-requests?status=OPEN&readiness=NEEDS_FIX&limit=5' },
      // An old version refuses the readiness filter it does not know.
      (r) =>
        r.status === 400 && /querystring\.readiness is not an allowed field/.test(messageOf(r))
          ? 'no readiness filter in this version yet'
          : undefined,
    )
    const items = (reply.body as { items?: Array<{ id: string; version?: number }> } | undefined)?.items ?? []
    const pick = items[Math.floor(mix.random() * items.length)]
    operator.toFix = pick?.version ? { id: pick.id, version: pick.version } : undefined
  } else if (step === 'fix-apply' && operator.toFix) {
    const { id, version } = operator.toFix
    operator.toFix = undefined
    const fix = mix.shipmentRequest()
    const reply = await send(
      'PATCH /shipment-requests/:id',
      {
        method: 'PATCH',
        path: `/shipment-requests/${id}`,
        body: { version, items: fix.items, address: { ...fix.address, country: 'AT' } },
      },
      // Another operator (or the bulk creation) got there first.
      (r) => notInThisVersionYet(r) ?? (r.status === 409 ? 'fixed or shipped meanwhile' : undefined),
    )
    if (reply.status === 200) mix.ledger.fixedRequests++
  } else {
    await send('GET /shipment-requests?status=OPEN', { method: 'GET', path: '/shipment-requests?status=OPEN&limit=20' })
  }
}
