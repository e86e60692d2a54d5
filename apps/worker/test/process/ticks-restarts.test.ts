import { setTimeout as sleep } from 'node:timers/promises'
import { checkTicks } from '@tms/jobs'
import t from 'tap'
import { inspector, isolatedEnv, startWorker, TICK_SETTLE_MS } from '../support.js'

t.test('every tick exactly once while the workers are restarted one by one every 5 s', async (t) => {
  const env = await isolatedEnv(t, { JOB_CREATE_SHIPMENTS_EVERY: '1s' })
  const look = await inspector(t, env)
  const workers = [await startWorker(t, env, 'r0'), await startWorker(t, env, 'r1'), await startWorker(t, env, 'r2')]
  const from = Date.now() + 1000
  const exits: Array<number | null> = []
  for (let round = 0; round < 9; round++) {
    await sleep(5000)
    const oldest = workers.shift()!
    oldest.signal('SIGTERM')
    workers.push(await startWorker(t, env, `r${round + 3}`))
    exits.push((await oldest.exited).code)
  }
  await sleep(TICK_SETTLE_MS + 1000)
  const to = Date.now() - TICK_SETTLE_MS
  await Promise.all(workers.map((w) => w.stop(30_000)))
  const report = checkTicks(await look.runs.all('create-shipments'), 1000, from, to)
  t.comment(`${report.ticks} ticks on ${report.instances.length} instances, across 9 restarts`)
  t.ok(report.ticks > 0, `${report.ticks} ticks ran`)
  t.same(report.duplicates, [], '0 duplicates')
  t.same(report.gaps, [], '0 gaps')
  t.same(report.missingAtEdges, { start: 0, end: 0 }, 'none missing at either end')
  t.same(exits, Array(9).fill(0), 'each stopped worker exited 0')
})
