/**
 * Locks between real processes (each its own Redis connection, started together): mutual
 * exclusion, FIFO fairness, a lost lock noticed and reported, fencing against a paused holder.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { openStorage } from '@tms/storage'
import { ensureTestDatabase, generousBound, isolatedDatabaseUrl, startChildService, startTcpProxy } from '@tms/testing'

import t, { type Test } from 'tap'
import { setup } from '../support.js'

const CLIENT = fileURLToPath(new URL('../fixtures/lock-client.mjs', import.meta.url))

function client(t: Test, name: string, env: Record<string, string>) {
  return startChildService(t, { name, script: CLIENT, env })
}

t.test('mutual exclusion: 200 read-increment-write cycles from 2 processes give exactly 200', async (t) => {
  const { prefix, redis } = await setup(t)
  const startAt = String(Date.now() + 1500)
  const clients = [0, 1].map((i) =>
    client(t, `incr-${i}`, { MODE: 'increment', LOCK_PREFIX: prefix, CYCLES: '100', START_AT: startAt }),
  )
  await Promise.all(clients.map((c) => c.exited))
  for (const c of clients)
    t.ok(
      c.logs.some((l) => l.event === 'done'),
      `${c.name} finished`,
    )
  t.equal(Number(await redis.get(`${prefix}data:counter`)), 200)
})

t.test('control: the same cycles without the lock lose updates (so the test above can fail)', async (t) => {
  const { prefix, redis } = await setup(t)
  const key = `${prefix}unlocked`
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      const value = Number((await redis.get(key)) ?? 0)
      await sleep(Math.random() * 2)
      await redis.set(key, value + 1)
    }),
  )
  t.ok(Number(await redis.get(key)) < 200, `lost updates without a lock (${await redis.get(key)} of 200)`)
})

t.test('fairness: 20 waiters arriving 5 ms apart from 2 processes are served in arrival order, 3 runs', async (t) => {
  for (let run = 1; run <= 3; run++) {
    const { prefix, redis, locks } = await setup(t)
    // Someone holds the lock while all 20 arrive, so every one of them has to queue.
    const startAt = Date.now() + 1500
    const holding = locks.runWithLock('fair', () => sleep(startAt + 20 * 5 + 200 - Date.now()), { ttlMs: 5000 })
    const clients = [0, 1].map((i) =>
      client(t, `fair-${run}-${i}`, {
        MODE: 'fair-waiters',
        LOCK_PREFIX: prefix,
        WAITERS: '20',
        STRIDE: '2',
        OFFSET: String(i),
        START_AT: String(startAt),
      }),
    )
    await holding
    await Promise.all(clients.map((c) => c.exited))
    const served = (await redis.lrange(`${prefix}served`, 0, -1)).map(Number)
    t.equal(served.length, 20, `run ${run}: all served`)
    const overtaken = served.filter((arrival, position) => served.slice(position + 1).some((later) => later < arrival)).length
    t.equal(overtaken, 0, `run ${run}: served in arrival order (${served.join(',')})`)
  }
})

async function holdThenBreak(t: Test, how: 'delete' | 'refuse' | 'silent') {
  const { prefix, redis } = await setup(t)
  const proxy = await startTcpProxy(t, '127.0.0.1', 6379)
  const ttlMs = 1500
  const holder = client(t, `hold-${how}`, {
    MODE: 'hold-until-lost',
    LOCK_PREFIX: prefix,
    TTL_MS: String(ttlMs),
    REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
  })
  await holder.waitForLog((l) => l.event === 'acquired', 60_000)
  await sleep(700) // past a refresh or two
  const brokenAt = Date.now()
  if (how === 'delete') await redis.del(`${prefix}held`)
  if (how === 'refuse') proxy.refuse()
  if (how === 'silent') proxy.blackhole()
  const aborted = await holder.waitForLog((l) => l.event === 'aborted', 10_000)
  const failed = await holder.waitForLog((l) => l.event === 'failed', 10_000)
  const noticedMs = (aborted.at as number) - brokenAt
  t.ok(
    noticedMs <= generousBound(ttlMs),
    `the action's signal fired ${noticedMs} ms after the lock was ${how === 'delete' ? 'deleted' : how === 'refuse' ? 'cut off' : 'silenced'} (TTL ${ttlMs} ms)`,
  )
  t.equal(failed.error, 'LockLostError', `the call reports lock lost: ${failed.message as string}`)
  t.equal(failed.actionRunning, true, 'at once: while the action, which ignores its signal, was still running')
  await holder.waitForLog((l) => l.event === 'alive')
  t.same(await holder.exited, { code: 0, signal: null }, 'the process stays up and exits normally')
  t.notOk(
    holder.stderr.some((l) => /Unhandled|MaxRetriesPerRequestError/.test(l)),
    'nothing unhandled',
  )
}

t.test('lock loss: the key deleted mid-hold', (t) => holdThenBreak(t, 'delete'))
t.test("lock loss: the holder's Redis connection refused mid-hold", (t) => holdThenBreak(t, 'refuse'))
t.test("lock loss: the holder's Redis silent (packets dropped) mid-hold", (t) => holdThenBreak(t, 'silent'))

t.test('fencing: a holder paused past its TTL cannot overwrite the newer holder’s write', async (t) => {
  const { prefix } = await setup(t)
  await ensureTestDatabase()
  const databaseUrl = isolatedDatabaseUrl(t)
  const storage = openStorage(databaseUrl)
  t.teardown(() => storage.close())
  const records = { name: 'fenced_records', schemaVersion: 1 }
  await storage.migrate([records])
  await storage.insert(records, 'r1', { writer: 'nobody' })
  const common = { MODE: 'fenced-writer', LOCK_PREFIX: prefix, TTL_MS: '1000', DATABASE_URL: databaseUrl }

  const paused = client(t, 'paused', { ...common, WRITER: 'paused', SLEEP_MS: '300', LINGER_MS: '500' })
  const first = await paused.waitForLog((l) => l.event === 'acquired', 60_000)
  paused.signal('SIGSTOP') // a GC pause, a frozen VM: no refresh, no progress
  await sleep(1500) // its lock expires meanwhile
  const successor = client(t, 'successor', { ...common, WRITER: 'successor', SLEEP_MS: '0' })
  const second = await successor.waitForLog((l) => l.event === 'acquired', 60_000)
  await successor.waitForLog((l) => l.event === 'wrote')
  t.ok((second.fencingToken as number) > (first.fencingToken as number), 'the newer holder has the newer token')
  paused.signal('SIGCONT')
  const outcome = await paused.waitForLog((l) => l.event === 'write rejected' || l.event === 'wrote', 10_000)
  t.equal(outcome.event, 'write rejected')
  t.equal(outcome.error, 'FencingTokenRejectedError')
  t.equal((await storage.get<{ writer: string }>(records, 'r1'))?.data.writer, 'successor', 'the newer write stands')
  await paused.exited
})

/** Runs `action` under the lock until the returned release() is called; resolves once it holds it. */
