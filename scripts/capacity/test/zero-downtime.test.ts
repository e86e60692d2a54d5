import t from 'tap'
import { describeZeroDowntime, failuresAt, type ShareOutcome, zeroDowntimeCapacity } from '../src/zero-downtime.js'

const at = (share: number, passed: boolean, failed: string[] = []): ShareOutcome => ({
  share,
  rate: Math.floor(share * 500),
  passed,
  failed,
})

t.test('the zero-downtime capacity is the highest share passing with every share below it', async (t) => {
  t.equal(zeroDowntimeCapacity([at(0.7, true), at(0.8, true), at(0.9, false, ['signal-first: p99'])])?.rate, 400)
  t.equal(
    zeroDowntimeCapacity([at(0.9, true), at(0.7, true), at(0.8, false)])?.rate,
    350,
    'a pass above a failure does not count',
  )
  t.equal(zeroDowntimeCapacity([at(0.7, false)]), null, 'even the first share failed')
  t.equal(zeroDowntimeCapacity([at(0.7, true), at(0.8, true), at(0.9, true), at(1.0, true)])?.rate, 500)
})

t.test('the summary says the capacity, every share tried, and the bound found', async (t) => {
  const found = describeZeroDowntime(500, [at(0.7, true), at(0.8, true), at(0.9, false, ['signal-first: p99 latency'])])
  t.match(found, /^capacity 500\/s/)
  t.match(found, / 90% {2}450\/s {3}FAIL {2}signal-first: p99 latency/)
  t.match(found, /zero-downtime capacity: 400\/s \(80% of capacity; 450\/s failed\)$/)
  t.match(describeZeroDowntime(500, [at(0.7, false, ['lb-first: x'])]), /zero-downtime capacity: below 350\/s/)
  t.match(
    describeZeroDowntime(500, [at(0.7, true), at(0.8, true), at(0.9, true), at(1.0, true)]),
    /at least 500\/s \(100% of capacity, the most tried\)/,
  )
})

t.test('a rate fails with any failed invariant, or with a steady state already past capacity', async (t) => {
  const report = (held: boolean, steadyP99: number) => ({
    invariants: [
      { name: 'no request failed', held: true },
      { name: 'p99 latency during the deploy at most 2x steady state', held },
    ],
    latency: { steady: { p99: steadyP99 } },
  })
  t.same(failuresAt(report(true, 30), 100), [])
  t.same(failuresAt(report(false, 30), 100), ['p99 latency during the deploy at most 2x steady state'])
  t.same(failuresAt(report(true, 214.4), 100), ['steady p99 214 ms, past capacity (100 ms)'], 'a ratio of 0.2x is no pass')
})
