import { randomBytes } from 'node:crypto'
import type { Reply } from './http-client.js'
import {
  type Expected,
  type MixContext,
  notInThisVersionYet,
  type Person,
  type PersonSend,
  pickIdle,
  sendAs,
  whileBusy,
} from './mix-context.js'

/** Of the journeys an agent starts, this share is a refurbishment batch rather than a shipment. */
const BATCH_JOURNEYS = 0.25

type BatchStep =
  | { step: 'batch-list' }
  | { step: 'batch-claim' | 'batch-add' | 'batch-pack' | 'batch-ship' | 'batch-release'; batchId: string }

export type AgentStep =
  | { step: 'login' }
  | { step: 'list' }
  | { step: 'claim' | 'extend' | 'view' | 'pack' | 'ship'; shipmentId: string }
  | { step: 'counts' }
  | BatchStep

/** A warehouse agent at a packing station. */
export interface AgentPerson extends Person {
  kind: 'agent'
  at: AgentStep
}

/**
 * One request of an agent's journey: list pending shipments, claim one, extend the claim, look
 * at it, pack it, ship it, glance at the counts; now and then a refurbishment batch instead.
 * When every agent is waiting for an answer (a stall) the request still leaves on time, as a
 * read that moves nobody's journey on.
 */
export async function agentTurn(mix: MixContext, agents: AgentPerson[], scheduledAt: number): Promise<void> {
  const { person: agent, idle } = pickIdle(agents, () => mix.random())
  if (!idle) {
    await mix.send(scheduledAt, 'agent', agent, 'GET /shipments/counts', { method: 'GET', path: '/shipments/counts' })
    return
  }
  await whileBusy(agent, () => agentStep(mix, agent, sendAs(mix, scheduledAt, agent), scheduledAt))
}

async function agentStep(mix: MixContext, agent: AgentPerson, send: PersonSend, scheduledAt: number): Promise<void> {
  const at = agent.at
  switch (at.step) {
    case 'login': {
      await mix.login(scheduledAt, agent)
      goto(agent, { step: 'list' })
      return
    }
    case 'list': {
      const reply = await send('GET /shipments?status=PENDING', { method: 'GET', path: '/shipments?status=PENDING&limit=50' })
      const items = (reply.body as { items?: Array<{ id: string }> } | undefined)?.items ?? []
      if (mix.ledger.freshMasterboxes.length > 0 && mix.random() < BATCH_JOURNEYS) {
        goto(agent, { step: 'batch-list' })
      } else if (reply.status === 200 && items.length > 0) {
        goto(agent, { step: 'claim', shipmentId: items[Math.floor(mix.random() * items.length)]!.id })
      }
      return
    }
    case 'claim': {
      const reply = await send('POST /shipments/:id/claim', { method: 'POST', path: `/shipments/${at.shipmentId}/claim` }, (r) =>
        r.status === 409 ? 'claim lost to another agent' : undefined,
      )
      if (reply.status === 200) {
        mix.ledger.claimed(at.shipmentId, agent.email)
        goto(agent, { step: 'extend', shipmentId: at.shipmentId })
      } else goto(agent, { step: 'list' })
      return
    }
    case 'extend':
    case 'view': {
      const reply =
        at.step === 'extend'
          ? await send('POST /shipments/:id/claim/extend', { method: 'POST', path: `/shipments/${at.shipmentId}/claim/extend` })
          : await send('GET /shipments/:id', { method: 'GET', path: `/shipments/${at.shipmentId}` })
      advance(mix, agent, reply, { step: at.step === 'extend' ? 'view' : 'pack', shipmentId: at.shipmentId })
      return
    }
    case 'pack': {
      const reply = await send('POST /shipments/:id/pack', { method: 'POST', path: `/shipments/${at.shipmentId}/pack` })
      if (reply.status === 200) mix.ledger.packed(at.shipmentId, agent.email)
      advance(mix, agent, reply, { step: 'ship', shipmentId: at.shipmentId })
      return
    }
    case 'ship': {
      const trackingNumber = `TRK-${randomBytes(6).toString('hex').toUpperCase()}`
      const reply = await send('POST /shipments/:id/ship', {
        method: 'POST',
        path: `/shipments/${at.shipmentId}/ship`,
        body: { trackingNumber },
      })
      if (reply.status === 200) mix.ledger.shipped.set(at.shipmentId, trackingNumber)
      advance(mix, agent, reply, { step: 'counts' })
      return
    }
    case 'counts': {
      await send('GET /shipments/counts', { method: 'GET', path: '/shipments/counts' })
      goto(agent, { step: 'list' })
      return
    }
    default:
      return batchStep(mix, agent, at, send)
  }
}

/** An agent filling a refurbishment batch from a partner's masterbox, packing and shipping it. */
async function batchStep(mix: MixContext, agent: AgentPerson, at: BatchStep, send: PersonSend): Promise<void> {
  const expectedOr = (why: Expected) => (r: Reply) => notInThisVersionYet(r) ?? why(r)
  if (at.step === 'batch-list') {
    const reply = await send(
      'GET /refurbishment-batches?status=OPEN',
      { method: 'GET', path: '/refurbishment-batches?status=OPEN&limit=10' },
      notInThisVersionYet,
    )
    const items = (reply.body as { items?: Array<{ id: string }> } | undefined)?.items ?? []
    const batch = items[Math.floor(mix.random() * items.length)]
    goto(agent, reply.status === 200 && batch ? { step: 'batch-claim', batchId: batch.id } : { step: 'list' })
    return
  }
  const path = `/refurbishment-batches/${at.batchId}`
  const held = (r: Reply) => (r.status === 409 ? 'batch held, or moved on, by another agent' : undefined)
  if (at.step === 'batch-claim') {
    const reply = await send('POST /refurbishment-batches/:id/claim', { method: 'POST', path: `${path}/claim` }, expectedOr(held))
    goto(agent, reply.status === 200 ? { step: 'batch-add', batchId: at.batchId } : { step: 'list' })
  } else if (at.step === 'batch-add' && mix.ledger.freshMasterboxes.length > 0) {
    const masterboxId = mix.ledger.freshMasterboxes.shift()!
    const reply = await send(
      'POST /refurbishment-batches/:id/devices',
      { method: 'POST', path: `${path}/devices`, body: { masterboxId } },
      expectedOr(held),
    )
    goto(agent, { step: reply.status === 200 ? 'batch-pack' : 'batch-release', batchId: at.batchId })
  } else if (at.step === 'batch-pack') {
    const reply = await send('POST /refurbishment-batches/:id/pack', { method: 'POST', path: `${path}/pack` }, expectedOr(held))
    goto(agent, { step: reply.status === 200 ? 'batch-ship' : 'batch-release', batchId: at.batchId })
  } else if (at.step === 'batch-ship') {
    const trackingNumber = `REF-${randomBytes(6).toString('hex').toUpperCase()}`
    const reply = await send(
      'POST /refurbishment-batches/:id/ship',
      { method: 'POST', path: `${path}/ship`, body: { trackingNumber } },
      expectedOr(held),
    )
    if (reply.status === 200) mix.ledger.shippedBatches.set(at.batchId, trackingNumber)
    goto(agent, { step: 'batch-release', batchId: at.batchId })
  } else {
    // batch-release, or batch-add with every fresh masterbox taken by other agents meanwhile:
    // the turn still sends its one request.
    await send('DELETE /refurbishment-batches/:id/claim', { method: 'DELETE', path: `${path}/claim` }, notInThisVersionYet)
    goto(agent, { step: 'list' })
  }
}

/** On to the next step; after a failure, back to the list (the claim lapses on its own). */
function advance(mix: MixContext, agent: AgentPerson, reply: Reply, next: AgentStep): void {
  const ok = reply.status >= 200 && reply.status < 300
  if (!ok && 'shipmentId' in agent.at) mix.ledger.letGo(agent.at.shipmentId, agent.email)
  goto(agent, ok ? next : { step: 'list' })
}

/** An agent whose session was lost logs in again first. */
function goto(agent: AgentPerson, next: AgentStep): void {
  agent.at = agent.cookie ? next : { step: 'login' }
}
