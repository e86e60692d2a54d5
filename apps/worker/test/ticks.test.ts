import { setTimeout as sleep } from 'node:timers/promises'
import { checkTicks } from '@tms/jobs'
import t from 'tap'
import { inspector, isolatedEnv, startWorker } from './support.js'

t.test('3 workers, a 1-second schedule, 60 s: every tick processed exactly once', async (t) => {
  const env = await isolatedEnv(t, { JOB_CREATE_SHIPMENTS_EVERY: '1s' })
  const look = await inspector(t, env)
  const workers = [await startWorker(t, env, 'w1'), await startWorker(t, env, 'w2'), await startWorker(t, env, 'w3')]
  const from = Date.now() + 1000
  await sleep(61_000)
  const to = Date.now() - 1500
  const exits = await Promise.all(workers.map((w) => w.stop(30_000)))
  const report = checkTicks(await look.runs.all('create-shipments'), 1000, from, to)
  t.comment(`${report.ticks} ticks on ${report.instances.length} instances`)
  t.ok(report.ticks >= 57, `${report.ticks} ticks in ~58 s`)
  t.same(report.duplicates, [], '0 duplicates')
  t.same(report.gaps, [], '0 gaps')
  t.ok(report.instances.length >= 2, 'competing consumers: the ticks spread over the workers')
  t.ok(
    exits.every((e) => e.code === 0),
    'every worker exits 0',
  )
})

t.test('the same while the workers are restarted one by one every 5 s', async (t) => {
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
  await sleep(3000)
  const to = Date.now() - 1500
  await Promise.all(workers.map((w) => w.stop(30_000)))
  const report = checkTicks(await look.runs.all('create-shipments'), 1000, from, to)
  t.comment(`${report.ticks} ticks on ${report.instances.length} instances, across 9 restarts`)
  t.ok(report.ticks >= 40, `${report.ticks} ticks`)
  t.same(report.duplicates, [], '0 duplicates')
  t.same(report.gaps, [], '0 gaps')
  t.same(exits, Array(9).fill(0), 'each stopped worker exited 0')
})

t.test('mixed versions: the newer schedule wins and stays, even when an old instance restarts after', async (t) => {
  const env = await isolatedEnv(t)
  const look = await inspector(t, env)
  const v1 = { ...env, JOB_SCHEDULE_VERSION: '1', JOB_CREATE_SHIPMENTS_EVERY: '1s' }
  const v2 = { ...env, JOB_SCHEDULE_VERSION: '2', JOB_CREATE_SHIPMENTS_EVERY: '2s' }
  const oldA = await startWorker(t, v1, 'old-a')
  const oldB = await startWorker(t, v1, 'old-b')
  t.equal((await look.queue.getJobScheduler('create-shipments'))?.every, 1000, 'the old instances upsert 1 s')
  await sleep(3000)
  const newer = await startWorker(t, v2, 'new')
  t.equal((await look.queue.getJobScheduler('create-shipments'))?.every, 2000, 'the newer one upserts 2 s')
  const switchedAt = Date.now() + 2500
  await sleep(4000)
  oldA.signal('SIGTERM')
  t.equal((await oldA.exited).code, 0)
  const restarted = await startWorker(t, v1, 'old-a-again')
  t.ok(
    restarted.logs.some((l) => l.msg === 'schedule written by a newer version; keeping it'),
    'the old instance leaves it alone',
  )
  t.equal((await look.queue.getJobScheduler('create-shipments'))?.every, 2000, 'still 2 s after the old instance restarted')
  t.match((await look.registry.records()).get('create-shipments'), { version: 2, every: 2000 })
  await sleep(8000)
  const to = Date.now() - 2500
  const runs = await look.runs.all('create-shipments')
  const all = checkTicks(runs, 1000, 0, to)
  t.same(all.duplicates, [], 'no tick ran twice, before or after the switch')
  const after = checkTicks(runs, 2000, switchedAt, to)
  t.ok(after.ticks >= 4, `${after.ticks} ticks at 2 s after the switch`)
  t.same(after.gaps, [], 'every 2 s, without gaps')
  const exits = await Promise.all([oldB, newer, restarted].map((w) => w.stop(30_000)))
  t.ok(
    exits.every((e) => e.code === 0),
    'no worker crashed',
  )
})
