import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { connectRedis, createRedis } from '@tms/redis'
import { eventually, isolatedRedisPrefix, startChildService, startTcpProxy, TEST_REDIS_URL } from '@tms/testing'
import t, { type Test } from 'tap'
import { createCaches } from '../src/caches.js'

const NODE = fileURLToPath(new URL('./fixtures/cache-node.mjs', import.meta.url))

function captureLogger() {
  const lines: Array<{ level: string; msg: string; obj: unknown }> = []
  const at = (level: string) => (obj: unknown, msg?: string) => void lines.push({ level, msg: msg ?? String(obj), obj })
  const logger = {
    trace: () => {},
    debug: () => {},
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: () => logger,
  }
  return { lines, logger }
}

async function instance(
  t: Test,
  prefix: string,
  options: { url?: string; schemaVersion?: number; memory?: { maxItems: number } } = {},
) {
  const url = options.url ?? TEST_REDIS_URL
  const redis = createRedis(url, { connectionName: 'cache-test' })
  const subscriber = createRedis(url, { connectionName: 'cache-test-bus', role: 'subscriber' })
  await connectRedis(redis)
  const { lines, logger } = captureLogger()
  const caches = createCaches({
    redis,
    subscriber,
    prefix,
    schemaVersion: options.schemaVersion ?? 1,
    logger,
    ...(options.memory ? { memory: options.memory } : {}),
  })
  t.teardown(async () => {
    await caches.close()
    redis.disconnect()
    subscriber.disconnect()
  })
  return { caches, redis, lines }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

t.test('three instances: single-flight per instance, and the window to see another instance’s write', async (t) => {
  const prefix = isolatedRedisPrefix(t)
  const nodes = ['a', 'b', 'c'].map((name) =>
    startChildService(t, {
      name: `cache-${name}`,
      script: NODE,
      stdin: true,
      env: { PREFIX: prefix },
    }),
  )
  await Promise.all(nodes.map((n) => n.waitForLog((l) => l.reply === 0, 60_000)))
  const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]

  const bursts = await Promise.all(nodes.map((n) => n.request({ op: 'burst', key: 'burst', n: 100 })))
  for (const [i, burst] of bursts.entries()) {
    t.ok((burst.loads as number) <= 1, `instance ${i}: 100 concurrent misses, ${burst.loads} loader call(s)`)
    t.same(burst.values, ['computed'])
  }
  t.ok(
    bursts.reduce((sum, b) => sum + (b.loads as number), 0) >= 1,
    'at least one instance computed it; the others may already have found it in Redis',
  )

  const windows: number[] = []
  for (let round = 0; round < 50; round++) {
    const value = `v${round}`
    await Promise.all([b.request({ op: 'get', key: 'window' }), c.request({ op: 'get', key: 'window' })])
    const watching = [b.request({ op: 'watch', key: 'window', value }), c.request({ op: 'watch', key: 'window', value })]
    await sleep(5)
    const { doneAt } = await a.request({ op: 'set', key: 'window', value })
    for (const seen of await Promise.all(watching)) windows.push(Math.max(0, (seen.seenAt as number) - (doneAt as number)))
  }
  windows.sort((x, y) => x - y)
  const p50 = percentile(windows, 50)
  const p99 = percentile(windows, 99)
  t.comment(
    `stale-read window after a write, 2 instances x 50 writes: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${windows.at(-1)!.toFixed(2)} ms`,
  )
  // The window's size is printed above, not judged: here, that every write was seen at all.
  t.equal(windows.length, 100, 'every write was seen by both other instances')
})

t.test('the cache schema version is part of every key: versions never read each other', async (t) => {
  const prefix = isolatedRedisPrefix(t)
  const v1 = await instance(t, prefix, { schemaVersion: 1 })
  const v2 = await instance(t, prefix, { schemaVersion: 2 })
  await v1.caches.remote.set('shape', { old: true }, { ttl: '1m' })
  t.equal(await v2.caches.remote.get('shape'), undefined)
  t.same(await v2.caches.remote.cached('shape', async () => ({ new: true }), { ttl: '1m' }), { new: true })
  t.same(await v1.caches.remote.get('shape'), { old: true })
  t.ok(await v1.redis.exists(`${prefix}cache:v1:shape`))
  t.ok(await v1.redis.exists(`${prefix}cache:v2:shape`))
})

t.test('a value that fails to decode is a miss, logged, never an error', async (t) => {
  const prefix = isolatedRedisPrefix(t)
  const { caches, redis, lines } = await instance(t, prefix)
  await redis.set(`${prefix}cache:v1:counts`, '{this is not what v1 wrote')
  let loads = 0
  const value = await caches.remote.cached('counts', async () => ++loads, { ttl: '1m' })
  t.equal(value, 1)
  t.equal(loads, 1)
  t.ok(
    lines.some((l) => l.level === 'error' && /failed on remote cache/.test(l.msg)),
    'logged',
  )
})

t.test('Redis down: answers come from the loader (counted, logged), and Redis is used again after', async (t) => {
  const prefix = isolatedRedisPrefix(t)
  const proxy = await startTcpProxy(t, '127.0.0.1', 6379)
  const { caches, lines } = await instance(t, prefix, { url: `redis://127.0.0.1:${proxy.port}` })
  t.equal(await caches.remote.cached('k', async () => 'from source', { ttl: 50 }), 'from source')
  await sleep(60)
  proxy.refuse()
  const results = []
  for (let i = 0; i < 5; i++) results.push(await caches.remote.cached(`down-${i}`, async () => `fallback ${i}`, { ttl: '1m' }))
  t.same(
    results,
    [0, 1, 2, 3, 4].map((i) => `fallback ${i}`),
    'every request still answered',
  )
  t.ok(caches.stats.remoteErrors >= 1, `remote errors counted (${caches.stats.remoteErrors})`)
  t.ok(
    caches.stats.remoteErrors < results.length,
    `the circuit breaker skips Redis after a failure: ${caches.stats.remoteErrors} failed Redis calls for ${results.length} requests`,
  )
  t.ok(caches.stats.fallbacks >= 1, `fallbacks counted (${caches.stats.fallbacks})`)
  t.ok(
    lines.some((l) => l.msg === 'remote cache unavailable; value computed from its source'),
    'logged',
  )
  t.ok(
    lines.filter((l) => l.msg === 'remote cache unavailable; value computed from its source').length <= 2,
    'logged once, not once per request',
  )
  proxy.restore()
  // Writes reach Redis again once the circuit breaker closes (2 s); until then they stay local.
  const other = await instance(t, prefix)
  const { value: shared } = await eventually(
    async () => {
      await caches.remote.set('after', 'shared again', { ttl: '1m' })
      return (await other.caches.remote.get('after')) === 'shared again' && 'shared again'
    },
    { withinMs: 30_000, everyMs: 200, what: 'a write reaching Redis' },
  )
  t.equal(shared, 'shared again', 'written to Redis again')
})

t.test('memory cache: bounded in entries, with a TTL, single-flight', async (t) => {
  const prefix = isolatedRedisPrefix(t)
  const { caches } = await instance(t, prefix, { memory: { maxItems: 3 } })
  const loads: string[] = []
  const load = (key: string) =>
    caches.memory.cached(
      key,
      async () => {
        loads.push(key)
        return key
      },
      { ttl: 200 },
    )
  for (const key of ['a', 'b', 'c', 'd', 'e']) await load(key)
  await load('e')
  await load('a')
  t.same(loads, ['a', 'b', 'c', 'd', 'e', 'a'], 'the oldest entries were evicted; the newest kept')
  await sleep(250)
  await load('e')
  t.equal(loads.at(-1), 'e', 'expired after its TTL')
  let calls = 0
  await Promise.all(
    Array.from({ length: 100 }, () =>
      caches.memory.cached(
        'burst',
        async () => {
          await sleep(20)
          return ++calls
        },
        { ttl: '1m' },
      ),
    ),
  )
  t.equal(calls, 1, '100 concurrent misses, one loader call')
})

t.test('after the bus connection drops, the front forgets what it may hold stale', async (t) => {
  const prefix = isolatedRedisPrefix(t)
  const writer = await instance(t, prefix)
  const proxy = await startTcpProxy(t, '127.0.0.1', 6379)
  const redis = createRedis(TEST_REDIS_URL, { connectionName: 'reader' })
  const subscriber = createRedis(`redis://127.0.0.1:${proxy.port}`, { connectionName: 'reader-bus', role: 'subscriber' })
  await connectRedis(redis)
  const { logger } = captureLogger()
  const reader = createCaches({ redis, subscriber, prefix, schemaVersion: 1, logger })
  t.teardown(async () => {
    await reader.close()
    redis.disconnect()
    subscriber.disconnect()
  })
  await writer.caches.remote.set('flag', 'old', { ttl: '1m' })
  t.equal(await reader.remote.get('flag'), 'old')
  await sleep(100)
  proxy.refuse() // the reader's subscription is gone: it will miss the next invalidation
  await writer.caches.remote.set('flag', 'new', { ttl: '1m' })
  await sleep(100)
  t.equal(await reader.remote.get('flag'), 'old', 'stale while it cannot hear invalidations (bounded by the TTL)')
  proxy.restore()
  const { ms } = await eventually(async () => (await reader.remote.get('flag')) === 'new', {
    withinMs: 30_000,
    what: 'the fresh value',
  })
  t.equal(await reader.remote.get('flag'), 'new', `fresh again ${ms} ms after the bus reconnected`)
})
