import t from 'tap'
import { latencyByPhase, newestInstanceRatios } from '../src/deploy-phases.js'
import type { Marker } from '../src/report.js'
import type { RequestRecord } from '../src/request-record.js'

// One API replacement (lb-first) and one worker deploy, in seconds since the load began.
const timeline: Marker[] = [
  { t: -3, app: 'api', action: 'started', instance: 'api-1' },
  { t: -2, app: 'api', action: 'healthy', instance: 'api-1' },
  { t: 10, app: 'api', action: 'deploy-start' },
  { t: 10, app: 'api', action: 'started', instance: 'api-2' },
  { t: 12, app: 'api', action: 'healthy', instance: 'api-2' },
  { t: 12, app: 'api', action: 'lb-drain', instance: 'api-1' },
  { t: 12, app: 'api', action: 'sigterm', instance: 'api-1' },
  { t: 17, app: 'api', action: 'exited', instance: 'api-1' },
  { t: 17, app: 'api', action: 'deploy-end' },
  { t: 20, app: 'worker', action: 'deploy-start' },
  { t: 22, app: 'worker', action: 'deploy-end' },
]

const record = (sentAt: number, latencyMs: number, instance: string): RequestRecord => ({
  scheduledAt: sentAt,
  sentAt,
  latencyMs,
  route: 'GET /shipments/:id',
  actor: 'agent',
  authenticated: true,
  status: 200,
  outcome: 'ok',
  instance,
  bytesIn: 0,
  bytesOut: 0,
})

t.test('each request counts in the phases it was sent in; steady is outside every deploy', async (t) => {
  const records = [
    record(1000, 99, 'api-1'), // the load's own warm-up: left out
    record(6000, 1, 'api-1'), // steady
    record(11_000, 2, 'api-1'), // api-2 booting
    record(12_500, 3, 'api-2'), // api-2 joined, and api-1 draining
    record(16_000, 4, 'api-2'), // api-1 still draining
    record(21_000, 5, 'api-2'), // workers deploying
    record(30_000, 6, 'api-2'), // steady
  ]
  const phases = Object.fromEntries(latencyByPhase(records, timeline, 5000).map((p) => [p.phase, [p.requests, p.p50]]))
  t.same(phases, {
    steady: [2, 1],
    'api instance booting': [1, 2],
    'api instance joined, first 3 s': [1, 3],
    'api instance draining': [2, 3],
    'workers deploying': [1, 5],
  })
})

t.test('signal-first: the drain runs from SIGTERM to exit', async (t) => {
  const signalFirst = timeline.filter((m) => m.action !== 'lb-drain')
  const drain = latencyByPhase([record(12_100, 7, 'api-1')], signalFirst, 5000).find((p) => p.phase === 'api instance draining')
  t.equal(drain?.requests, 1)
})

t.test('the newest instance against the others, by seconds since it joined', async (t) => {
  const records: RequestRecord[] = []
  for (let i = 0; i < 10; i++) {
    records.push(record(12_000 + i * 50, 4, 'api-2'), record(12_010 + i * 50, 2, 'api-1')) // 1st second: 2x
    records.push(record(13_000 + i * 50, 3, 'api-2'), record(13_010 + i * 50, 2, 'api-1')) // 2nd: 1.5x
  }
  records.push(record(14_000, 9, 'api-2')) // too few in the 3rd second to say
  const ratios = newestInstanceRatios(records, timeline, 3)
  t.same(ratios, [[2], [1.5], []])
})
