import { LockService, locksPrefix } from '@tms/locks'
import { connectRedis, createRedis } from '@tms/redis'
import { openStorage } from '@tms/storage'
import { ensureTestDatabase, isolatedDatabaseUrl, isolatedRedisPrefix, TEST_REDIS_URL } from '@tms/testing'
import t, { type Test } from 'tap'
import { JobRuns, jobRuns } from '../src/job-runs.js'
import { openJobsQueue } from '../src/jobs-queue.js'
import { tickOf } from '../src/schedule.js'
import { ScheduleRegistry } from '../src/schedule-registry.js'

async function setup(t: Test) {
  const prefix = isolatedRedisPrefix(t)
  const redis = createRedis(TEST_REDIS_URL, { connectionName: 'registry-test', role: 'blocking' })
  await connectRedis(redis)
  const queue = openJobsQueue(redis, prefix)
  t.teardown(async () => {
    await queue.close()
    redis.disconnect()
  })
  const registry = new ScheduleRegistry(redis, prefix)
  const locks = new LockService({ redis, prefix: locksPrefix(prefix) })
  const sync = (table: Array<{ id: string; every: number }>, version: number, instance = 'i') =>
    registry.sync({ queue, locks, version, instance, table: table.map((s) => ({ ...s, maxRunTimeMs: 1000 })) })
  return { queue, registry, sync }
}

t.test('sync writes what differs, leaves what is equal, removes what left the table', async (t) => {
  const { queue, registry, sync } = await setup(t)
  t.same(
    await sync(
      [
        { id: 'a', every: 1000 },
        { id: 'b', every: 2000 },
      ],
      1,
    ),
    { upserted: ['a', 'b'], unchanged: [], keptNewer: [], removed: [] },
  )
  t.same(
    await sync(
      [
        { id: 'a', every: 1000 },
        { id: 'b', every: 2000 },
      ],
      1,
    ),
    { upserted: [], unchanged: ['a', 'b'], keptNewer: [], removed: [] },
  )
  t.same(await sync([{ id: 'a', every: 5000 }], 1), { upserted: ['a'], unchanged: [], keptNewer: [], removed: ['b'] })
  t.equal((await queue.getJobScheduler('a'))?.every, 5000)
  t.equal(await queue.getJobScheduler('b'), undefined)
  t.same([...(await registry.records()).keys()], ['a'])
})

t.test('an older table version never overwrites, nor removes, what a newer one wrote', async (t) => {
  const { queue, registry, sync } = await setup(t)
  await sync([{ id: 'a', every: 1000 }], 1)
  await sync(
    [
      { id: 'a', every: 2000 },
      { id: 'new-job', every: 3000 },
    ],
    2,
  )
  const report = await sync([{ id: 'a', every: 1000 }], 1, 'old instance')
  t.same(report.keptNewer.sort(), ['a', 'new-job'])
  t.equal((await queue.getJobScheduler('a'))?.every, 2000)
  t.ok(await queue.getJobScheduler('new-job'), 'a job the old table does not know stays')
  t.match((await registry.records()).get('a'), { version: 2, every: 2000 })
})

t.test('instances syncing at once converge without errors', async (t) => {
  const { queue, sync } = await setup(t)
  const reports = await Promise.all(Array.from({ length: 5 }, (_, i) => sync([{ id: 'a', every: 1000 }], 1, `i${i}`)))
  t.equal(reports.filter((r) => r.upserted.includes('a')).length, 1, 'written once; the others found it equal')
  t.equal((await queue.getJobSchedulers()).length, 1)
})

t.test('pause and resume', async (t) => {
  const { registry } = await setup(t)
  await registry.pause('a')
  t.equal(await registry.isPaused('a'), true)
  t.same([...(await registry.pausedIds())], ['a'])
  await registry.resume('a')
  t.equal(await registry.isPaused('a'), false)
})

/** Run records in an isolated schema, and the fields every run of these tests shares. */
async function runRecords(t: Test) {
  await ensureTestDatabase()
  const storage = openStorage(isolatedDatabaseUrl(t))
  t.teardown(() => storage.close())
  await storage.migrate([jobRuns])
  const base = { scheduleId: 's', jobId: 'j', tick: null, trigger: 'on-demand' as const, attempt: 1, instance: 'i', version: '1' }
  return { storage, runs: new JobRuns(storage), base }
}

t.test('runs: recorded per attempt, stale ones abandoned, old ones trimmed', async (t) => {
  const { storage, runs, base } = await runRecords(t)
  const old = await runs.start({ ...base, startedAt: new Date(Date.now() - 40 * 86_400_000).toISOString() })
  await runs.finish(old, 'succeeded', { result: { n: 1 } })
  await runs.start({ ...base, startedAt: new Date(Date.now() - 3_600_000).toISOString() })
  const fresh = await runs.start({ ...base, startedAt: new Date().toISOString() })
  t.equal(await runs.abandonStale(60_000), 1, 'the hour-old run that never finished')
  t.equal(await runs.trim(14), 1, 'the 40-day-old run')
  const left = await runs.recent('s', 10)
  t.same(left.map((r) => r.outcome).sort(), ['abandoned', 'running'])
  await runs.finish((await storage.get(jobRuns, fresh.id))!, 'failed', { error: 'boom' })
  t.match((await runs.recent('s', 1))[0], { outcome: 'failed', error: 'boom' })
})

t.test('the tick of a scheduler job is in its id', async (t) => {
  t.equal(tickOf('repeat:sync-orders:1795738719754'), 1795738719754)
  t.equal(tickOf('12'), null)
  t.equal(tickOf(undefined), null)
})

t.test('trim removes expired runs page by page, at most a batch, and stops at the first young one', async (t) => {
  const { runs, base } = await runRecords(t)
  for (let i = 0; i < 25; i++) {
    const run = await runs.start({ ...base, startedAt: new Date(Date.now() - (40 - i / 100) * 86_400_000).toISOString() })
    await runs.finish(run, 'succeeded', {})
  }
  await runs.start({ ...base, startedAt: new Date().toISOString() })
  t.equal(await runs.trim(14, 5), 5, 'no more than the batch')
  t.equal(await runs.trim(14), 20, 'the rest, over several pages')
  t.equal(await runs.trim(14), 0)
  t.equal((await runs.recent('s', 100)).length, 1, 'the young run stays')
})
