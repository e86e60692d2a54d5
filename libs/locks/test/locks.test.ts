import { setTimeout as sleep } from 'node:timers/promises'
import { connectRedis, createRedis } from '@tms/redis'
import { isolatedRedisPrefix, TEST_REDIS_URL } from '@tms/testing'

import t from 'tap'
import { HeldLimitError, LockBusyError, LockTimeoutError, NotLockHolderError, ObjectLockedError } from '../src/errors.js'
import { LockService } from '../src/lock-service.js'
import { setup } from './support.js'

async function hold(take: (action: () => Promise<void>) => Promise<unknown>) {
  let release!: () => void
  let holding!: () => void
  const held = new Promise<void>((resolve) => (holding = resolve))
  const done = take(() => {
    holding()
    return new Promise<void>((resolve) => (release = resolve))
  })
  await held
  return {
    release: async () => {
      release()
      await done
    },
  }
}

t.test('runIfKeyNotLocked is a single attempt; withServiceLock says "already running"', async (t) => {
  const { redis, prefix } = await setup(t)
  // A wait of 10 minutes: had runIfKeyNotLocked waited for the lock at all, the test would hang.
  const locks = new LockService({ redis, prefix, ttlMs: 2000, acquireTimeoutMs: 600_000 })
  const job = await hold((action) => locks.runWithLock('job', action))
  t.same(await locks.runIfKeyNotLocked('job', async () => 'ran'), { acquired: false }, 'answered while the lock is held')
  const busy = await locks.withServiceLock('job', async () => 'ran').catch((e: unknown) => e)
  t.ok(!(busy instanceof LockBusyError), 'a service lock is its own key')
  const bulk = await hold((action) => locks.withServiceLock('bulk', action))
  await t.rejects(
    locks.withServiceLock('bulk', async () => 'ran'),
    LockBusyError,
  )
  await t.rejects(
    locks.withServiceLock('bulk', async () => 'ran'),
    { message: 'bulk is already running' },
  )
  await bulk.release()
  t.equal(await locks.withServiceLock('bulk', async () => 'ran'), 'ran')
  await job.release()
  t.same(await locks.runIfKeyNotLocked('job', async () => 'ran'), { acquired: true, value: 'ran' })
})

t.test('waiting is bounded: past it, a clear timeout error', async (t) => {
  const { locks } = await setup(t)
  const slow = await hold((action) => locks.runWithLock('slow', action))
  await t.rejects(
    locks.runWithLock('slow', async () => 'ran', { acquireTimeoutMs: 200 }),
    LockTimeoutError,
  )
  await slow.release()
  t.equal(await locks.runWithLock('slow', async () => 'ran'), 'ran', 'the timed-out waiter left the queue')
})

t.test('fencing tokens strictly increase, also after the counter is lost', async (t) => {
  const { prefix, redis, locks } = await setup(t)
  const tokens: number[] = []
  for (let i = 0; i < 5; i++) await locks.runWithLock('k', async ({ fencingToken }) => void tokens.push(fencingToken))
  t.same(
    tokens,
    [...tokens].sort((a, b) => a - b),
  )
  t.equal(new Set(tokens).size, 5)
  await redis.del(`${prefix}fence`) // as if Redis restarted empty
  const after = await locks.runWithLock('k', async ({ fencingToken }) => fencingToken)
  t.ok(after > tokens.at(-1)!, 'still newer than every token handed out before')
})

t.test('object locks: claim, idempotent re-claim, extend, release, listing by pattern', async (t) => {
  const { locks } = await setup(t)
  const pattern = 'shipment:<id>:claim' as const
  const a = await locks.lockObject(pattern, 's1', 'agent-a', 1000)
  t.match(a, { objectId: 's1', holder: 'agent-a' })
  const again = await locks.lockObject(pattern, 's1', 'agent-a', 1000)
  t.equal(again.fencingToken, a.fencingToken, 'claiming again keeps the claim and its token')
  await t.rejects(locks.lockObject(pattern, 's1', 'agent-b', 1000), ObjectLockedError)
  await locks.lockObject(pattern, 's2', 'agent-b', 1000)
  await locks.runWithLock('shipment:s3:other', async () => {
    t.same([...(await locks.getLockedObjectIds(pattern))].sort(), ['s1', 's2'], 'only claims, and only live ones')
  })
  await t.rejects(locks.extendObjectLock(pattern, 's1', 'agent-b', 1000), NotLockHolderError)
  const extended = await locks.extendObjectLock(pattern, 's1', 'agent-a', 5000)
  t.ok(extended.expiresAt.getTime() > a.expiresAt.getTime())
  t.equal(await locks.releaseObjectLock(pattern, 's1', 'agent-b'), false, 'not yours to release')
  t.equal(await locks.releaseObjectLock(pattern, 's1', 'agent-a'), true)
  t.equal(await locks.getObjectLock(pattern, 's1'), null)
  t.same([...(await locks.getLockedObjectIds(pattern))], ['s2'], 'a released claim is no longer listed')
  await sleep(1100)
  t.same([...(await locks.getLockedObjectIds(pattern))], [], 'expired claims are gone')
  const fresh = await locks.lockObject(pattern, 's2', 'agent-c', 1000)
  t.ok(fresh.fencingToken > a.fencingToken, 'a new claim gets a newer token')
})

t.test('listed claims follow extensions, and come from the index, not from a scan of the keyspace', async (t) => {
  const { prefix, redis, locks } = await setup(t)
  const pattern = 'shipment:<id>:claim' as const
  await locks.lockObject(pattern, 'kept', 'agent-a', 600)
  await locks.lockObject(pattern, 'lapsing', 'agent-b', 600)
  await locks.extendObjectLock(pattern, 'kept', 'agent-a', 5000)
  await sleep(800)
  t.same([...(await locks.getLockedObjectIds(pattern))], ['kept'], 'the extended claim outlives its first expiry')
  // A key that merely looks like a claim (no lock taken through the service) is not one.
  await redis.set(`${prefix}shipment:forged:claim`, 'agent-x#1', 'PX', 5000)
  t.same([...(await locks.getLockedObjectIds(pattern))], ['kept'])
  t.equal(await locks.releaseObjectLock(pattern, 'kept', 'agent-a'), true)
  t.same([...(await locks.getLockedObjectIds(pattern))], [])
})

t.test("extending a lock keeps its holder's list alive at least as long, never shorter", async (t) => {
  const { prefix, redis, locks } = await setup(t)
  const pattern = 'shipment:<id>:claim' as const
  const list = `${prefix}held:${pattern}:agent-a`
  await locks.lockObject(pattern, 'long', 'agent-a', 1000)
  t.ok((await redis.pttl(list)) <= 60_000, 'a short lock: the list lives its minimum, 60 s')
  await locks.extendObjectLock(pattern, 'long', 'agent-a', 300_000)
  t.ok((await redis.pttl(list)) > 290_000, 'extended to 300 s: so is the list')
  await locks.lockObject(pattern, 'short', 'agent-a', 1000)
  await locks.extendObjectLock(pattern, 'short', 'agent-a', 2000)
  t.ok((await redis.pttl(list)) > 290_000, 'a shorter extension of another lock does not shorten it')
  t.same((await locks.heldObjectIds(pattern, 'agent-a')).sort(), ['long', 'short'])
})

t.test('50 parallel claims of one object by different holders: exactly one wins', async (t) => {
  const { locks } = await setup(t)
  const results = await Promise.allSettled(
    Array.from({ length: 50 }, (_, i) => locks.lockObject('shipment:<id>:claim', 'race', `agent-${i}`, 5000)),
  )
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  t.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof ObjectLockedError))
})

t.test('a limit per holder counts only the locks it still holds, and 50 parallel attempts keep to it', async (t) => {
  const { locks } = await setup(t)
  const pattern = 'shipment:<id>:claim' as const
  const most = { most: 2 }
  await locks.lockObject(pattern, 'a1', 'agent-a', 600, most)
  await locks.lockObject(pattern, 'a2', 'agent-a', 5000, most)
  const limited = await locks.lockObject(pattern, 'a3', 'agent-a', 5000, most).catch((e: unknown) => e)
  t.ok(limited instanceof HeldLimitError, 'a third is refused')
  t.equal((limited as HeldLimitError).held, 2)
  t.equal(
    (await locks.lockObject(pattern, 'a2', 'agent-a', 5000, most)).objectId,
    'a2',
    'one held already is renewed at the limit',
  )
  t.equal(await locks.getObjectLock(pattern, 'a3'), null, 'the refused one was not taken')
  await sleep(800)
  await locks.lockObject(pattern, 'a3', 'agent-a', 5000, most)
  t.same((await locks.heldObjectIds(pattern, 'agent-a')).sort(), ['a2', 'a3'], 'an expired lock frees its place')
  await locks.lockObject(pattern, 'b1', 'agent-b', 5000, { most: 1 })
  t.ok(await locks.releaseObjectLock(pattern, 'b1', 'agent-b'))
  await locks.lockObject(pattern, 'b2', 'agent-b', 5000, { most: 1 })
  t.same(await locks.heldObjectIds(pattern, 'agent-b'), ['b2'], 'a released lock frees its place')

  const results = await Promise.allSettled(
    Array.from({ length: 50 }, (_, i) => locks.lockObject(pattern, `c${i}`, 'agent-c', 5000, { most: 3 })),
  )
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 3)
  t.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof HeldLimitError))
  t.equal((await locks.heldObjectIds(pattern, 'agent-c')).length, 3)
})

t.test('locks of other patterns can count towards one limit: 50 parallel attempts over two kinds keep to it', async (t) => {
  const { locks } = await setup(t)
  const shipment = 'shipment:<id>:claim' as const
  const batch = 'refurbishment-batch:<id>:claim' as const
  const limit = (countWith: typeof shipment | typeof batch) => ({ most: 3, countWith: [countWith] })
  await locks.lockObject(shipment, 's1', 'agent-a', 5000, limit(batch))
  await locks.lockObject(batch, 'b1', 'agent-a', 5000, limit(shipment))
  await locks.lockObject(shipment, 's2', 'agent-a', 5000, limit(batch))
  const fourth = await locks.lockObject(batch, 'b2', 'agent-a', 5000, limit(shipment)).catch((e: unknown) => e)
  t.ok(fourth instanceof HeldLimitError, 'a fourth of either kind is refused')
  t.equal((fourth as HeldLimitError).held, 3)
  t.ok(await locks.releaseObjectLock(shipment, 's1', 'agent-a'))
  await locks.lockObject(batch, 'b2', 'agent-a', 5000, limit(shipment))
  t.same((await locks.heldObjectIds(batch, 'agent-a')).sort(), ['b1', 'b2'], 'a released one of the other kind frees a place')

  const results = await Promise.allSettled(
    Array.from({ length: 50 }, (_, i) =>
      i % 2
        ? locks.lockObject(shipment, `cs${i}`, 'agent-c', 5000, limit(batch))
        : locks.lockObject(batch, `cb${i}`, 'agent-c', 5000, limit(shipment)),
    ),
  )
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 3, 'exactly 3 of 50, both kinds together')
  const held = (await locks.heldObjectIds(shipment, 'agent-c')).length + (await locks.heldObjectIds(batch, 'agent-c')).length
  t.equal(held, 3)
})

t.test("a connection's first lock, queued behind a pipeline in flight, works", async (t) => {
  // ioredis auto-pipelining: while one pipeline waits for Redis, commands gather in the next.
  // The first lock on a connection used to define its Lua commands on the client then; the
  // gathering pipeline, created before, lacked them, and ioredis crashed the process (seen
  // under load in the deploy rehearsal).
  const prefix = isolatedRedisPrefix(t)
  const redis = createRedis(TEST_REDIS_URL, { connectionName: 'locks-test-pipelined' })
  t.teardown(() => redis.disconnect())
  await connectRedis(redis)
  const locks = new LockService({ redis, prefix, ttlMs: 2000 })
  // Redis busy for 200 ms: the pipeline carrying this stays in flight meanwhile.
  const busy = redis.eval(
    `local t0 = redis.call('TIME')
     repeat local t = redis.call('TIME') until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 200000
     return 1`,
    0,
  )
  await new Promise((resolve) => setImmediate(resolve))
  const gathering = redis.get(`${prefix}nothing`)
  const run = locks.withServiceLock('create-shipments', async ({ fencingToken }) => fencingToken)
  const [, value, token] = await Promise.all([busy, gathering, run])
  t.equal(value, null)
  t.ok(token > 0, 'the lock was taken and the action ran')
})

t.test('a queue that empties leaves nothing behind but the fencing counter', async (t) => {
  const { prefix, redis, locks } = await setup(t)
  // Twenty at once: all but the first wait in the queue.
  await Promise.all(Array.from({ length: 20 }, () => locks.runWithLock('busy', () => sleep(5))))
  t.same(await redis.keys(`${prefix}*`), [`${prefix}fence`])
})
