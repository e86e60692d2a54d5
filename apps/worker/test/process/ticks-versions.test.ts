import { setTimeout as sleep } from 'node:timers/promises'
import { checkTicks } from '@tms/jobs'
import t from 'tap'
import { inspector, isolatedEnv, startWorker, TICK_SETTLE_MS, until } from '../support.js'

t.test('mixed versions: the newer schedule wins and stays, even when an old instance restarts after', async (t) => {
  const env = await isolatedEnv(t)
  const look = await inspector(t, env)
  const v1 = { ...env, JOB_SCHEDULE_VERSION: '1', JOB_CREATE_SHIPMENTS_EVERY: '1s' }
  const v2 = { ...env, JOB_SCHEDULE_VERSION: '2', JOB_CREATE_SHIPMENTS_EVERY: '2s' }
  const oldA = await startWorker(t, v1, 'old-a')
  const oldB = await startWorker(t, v1, 'old-b')
  t.equal((await look.queue.getJobScheduler('create-shipments'))?.every, 1000, 'the old instances upsert 1 s')
  await until(async () => (await look.runs.all('create-shipments')).length >= 2)
  const newer = await startWorker(t, v2, 'new')
  t.equal((await look.queue.getJobScheduler('create-shipments'))?.every, 2000, 'the newer one upserts 2 s')
  // A tick of the old schedule already queued may still run; from the next 2 s tick on, only 2 s.
  const switchedAt = Date.now() + 2500
  oldA.signal('SIGTERM')
  t.equal((await oldA.exited).code, 0)
  const restarted = await startWorker(t, v1, 'old-a-again')
  t.ok(
    restarted.logs.some((l) => l.msg === 'schedule written by a newer version; keeping it'),
    'the old instance leaves it alone',
  )
  t.equal((await look.queue.getJobScheduler('create-shipments'))?.every, 2000, 'still 2 s after the old instance restarted')
  t.match((await look.registry.records()).get('create-shipments'), { version: 2, every: 2000 })
  await sleep(Math.max(0, switchedAt - Date.now()) + 8000 + TICK_SETTLE_MS)
  const to = Date.now() - TICK_SETTLE_MS
  const runs = await look.runs.all('create-shipments')
  const all = checkTicks(runs, 1000, 0, to)
  t.same(all.duplicates, [], 'no tick ran twice, before or after the switch')
  const after = checkTicks(runs, 2000, switchedAt, to)
  t.ok(after.ticks > 0, `${after.ticks} ticks at 2 s after the switch`)
  t.same(after.gaps, [], 'every 2 s, without gaps')
  t.same(after.missingAtEdges, { start: 0, end: 0 }, 'none missing at either end')
  const exits = await Promise.all([oldB, newer, restarted].map((w) => w.stop(30_000)))
  t.ok(
    exits.every((e) => e.code === 0),
    'no worker crashed',
  )
})
