import { setTimeout as sleep } from 'node:timers/promises'
import { checkTicks } from '@tms/jobs'
import t from 'tap'
import { inspector, isolatedEnv, startWorker, TICK_SETTLE_MS } from '../support.js'

t.test('3 workers, a 1-second schedule, 60 s: every tick processed exactly once', async (t) => {
  const env = await isolatedEnv(t, { JOB_CREATE_SHIPMENTS_EVERY: '1s' })
  const look = await inspector(t, env)
  const workers = [await startWorker(t, env, 'w1'), await startWorker(t, env, 'w2'), await startWorker(t, env, 'w3')]
  const from = Date.now() + 1000
  await sleep(60_000 + TICK_SETTLE_MS)
  const to = Date.now() - TICK_SETTLE_MS
  const exits = await Promise.all(workers.map((w) => w.stop(30_000)))
  const report = checkTicks(await look.runs.all('create-shipments'), 1000, from, to)
  t.comment(`${report.ticks} ticks on ${report.instances.length} instances`)
  t.ok(report.ticks > 0, `${report.ticks} ticks ran`)
  t.same(report.duplicates, [], '0 duplicates')
  t.same(report.gaps, [], '0 gaps')
  t.same(report.missingAtEdges, { start: 0, end: 0 }, 'none missing at either end: every tick of the minute ran')
  t.ok(report.instances.length >= 2, 'competing consumers: the ticks spread over the workers')
  t.ok(
    exits.every((e) => e.code === 0),
    'every worker exits 0',
  )
})
