import t from 'tap'
import type { Reply } from '../src/http-client.js'
import type { CheckContext } from '../src/invariant-model.js'
import { everyDeployFinished, everyRequestAnswered, noShipmentPackedTwice } from '../src/invariants.js'
import { Ledger } from '../src/ledger.js'
import type { RequestRecord } from '../src/request-record.js'

/** The checks on recorded data, without a cluster: what a run recorded, judged. */
const record = (overrides: Partial<RequestRecord>): RequestRecord => ({
  scheduledAt: 0,
  sentAt: 0,
  latencyMs: 5,
  route: 'GET /shipments',
  actor: 'agent',
  authenticated: true,
  status: 200,
  outcome: 'ok',
  bytesIn: 10,
  bytesOut: 10,
  ...overrides,
})

const context = (overrides: Partial<CheckContext>): CheckContext =>
  ({
    records: [],
    ledger: new Ledger(),
    shipments: new Map<string, Reply>(),
    deploys: [],
    loadStartedAt: 0,
    loadEndedAt: 60_000,
    loadPlannedMs: 60_000,
    ...overrides,
  }) as CheckContext

t.test('every request answered: expected business answers count, a failure fails it and is named', async (t) => {
  const fine = await everyRequestAnswered(
    context({ records: [record({}), record({ status: 409, outcome: 'expected', note: 'claim lost to another agent' })] }),
  )
  t.match(fine, { id: 'answered', held: true, violations: 0, measured: /1 2xx \+ 1 expected business answers of 2; 0 failed/ })
  const broken = await everyRequestAnswered(
    context({
      records: [record({}), record({ sentAt: 12_300, status: 502, outcome: 'failed', route: 'POST /shipments/:id/pack' })],
    }),
  )
  t.match(broken, { held: false, violations: 1, details: ['+12.3s POST /shipments/:id/pack -> 502'] })
  t.match(await everyRequestAnswered(context({ records: [] })), { held: false }, 'no load at all proves nothing')
})

t.test('no shipment packed twice: a double pack, a double claim, a wrong packer each fail it', async (t) => {
  const ledger = new Ledger()
  ledger.claimed('s-1', 'ada')
  ledger.packed('s-1', 'ada')
  const shipments = new Map<string, Reply>([['s-1', { status: 200, body: { status: 'PACKED', packedBy: 'ada' } } as Reply]])
  t.match(await noShipmentPackedTwice(context({ ledger, shipments })), { held: true })

  ledger.claimed('s-2', 'ada')
  ledger.claimed('s-2', 'bob')
  ledger.packed('s-3', 'ada')
  ledger.packed('s-3', 'bob')
  shipments.set('s-3', { status: 200, body: { status: 'PACKED', packedBy: 'bob' } } as Reply)
  const broken = await noShipmentPackedTwice(context({ ledger, shipments }))
  t.match(broken, { held: false, violations: 3 }, 'packed twice, claimed by two, stored with the other packer')
  t.match(broken?.details, ['s-3 packed by ada, bob', 's-2 claimed by ada and bob', 's-3: we packed as ada, stored bob'])
})

t.test('every deploy finished while the load ran', async (t) => {
  const inside = { app: 'api', from: 12_000, to: 40_000 }
  t.match(await everyDeployFinished(context({ deploys: [inside] })), { held: true, measured: 'api 12.0s -> 40.0s' })
  const late = await everyDeployFinished(context({ deploys: [inside, { app: 'worker', from: 21_000, to: null }] }))
  t.match(late, { held: false, violations: 1, details: [/worker: still deploying/] })
  t.match(await everyDeployFinished(context({ deploys: [] })), { held: false }, 'no deploy: nothing was rehearsed')
})
