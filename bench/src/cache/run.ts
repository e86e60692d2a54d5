/**
 * bench/cache: hit latency of each cache tier beside a plain Redis GET in the same run:
 *  - memory cache hit (per instance);
 *  - remote cache, front hit (the value is in this instance's memory);
 *  - remote cache, Redis hit (another instance wrote it; this one reads it from Redis);
 *  - baseline: one ioredis GET of a value of the same size.
 * Blocks of each alternate so drift weighs on all alike.
 *
 *   npm run bench:cache [-- --iterations 5000]
 */
import { parseArgs } from 'node:util'
import { createCaches } from '@tms/cache'
import { connectRedis, createRedis } from '@tms/redis'
import { deleteKeys, TEST_REDIS_URL, uniqueName } from '@tms/testing'
import { percentile, pinLocalRedis, pinSelf } from '../machine.js'

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '5000' } } })
const iterations = Number(values.iterations)

pinSelf(0)
const prefix = `bench:${uniqueName('cache')}:`
const noop = () => {}
const logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, child: () => logger }
async function instance() {
  const redis = createRedis(TEST_REDIS_URL, { connectionName: 'bench-cache' })
  const subscriber = createRedis(TEST_REDIS_URL, { connectionName: 'bench-cache-bus', role: 'subscriber' })
  await connectRedis(redis)
  return {
    redis,
    subscriber,
    caches: createCaches({ redis, subscriber, prefix, schemaVersion: 1, logger, remoteFront: { maxItems: iterations * 2 } }),
  }
}
const writer = await instance()
const reader = await instance()
const unpinRedis = await pinLocalRedis(writer.redis, TEST_REDIS_URL, 1)
// A shipment-counts-sized value and a catalogue-sized one would differ; this is a typical small entry.
const value = { PENDING: 1234, PACKED: 567, SHIPPED: 89012, note: 'x'.repeat(150) }
const raw = JSON.stringify(value)

type Tier = 'redis GET (baseline)' | 'memory cache hit' | 'remote cache, front hit' | 'remote cache, Redis hit'
const samples = new Map<Tier, number[]>()
const time = async (tier: Tier, fn: () => Promise<unknown>) => {
  const started = performance.now()
  await fn()
  const list = samples.get(tier) ?? []
  list.push((performance.now() - started) * 1000)
  samples.set(tier, list)
}

try {
  await writer.redis.set(`${prefix}raw`, raw)
  await reader.caches.memory.set('memory', value, { ttl: '1h' })
  await writer.caches.remote.set('front', value, { ttl: '1h' })
  await reader.caches.remote.get('front')
  for (let i = 0; i < iterations; i++) await writer.caches.remote.set(`cold-${i}`, value, { ttl: '1h' })
  for (let i = 0; i < 500; i++) {
    await reader.caches.memory.get('memory')
    await reader.caches.remote.get('front')
    await writer.redis.get(`${prefix}raw`)
  }
  for (let block = 0; block < iterations / 100; block++) {
    for (let i = 0; i < 100; i++) {
      const n = block * 100 + i
      await time('redis GET (baseline)', () => reader.redis.get(`${prefix}raw`))
      await time('memory cache hit', () => reader.caches.memory.get('memory'))
      await time('remote cache, front hit', () => reader.caches.remote.get('front'))
      await time('remote cache, Redis hit', () => reader.caches.remote.get(`cold-${n}`))
    }
  }
  const base = percentile(samples.get('redis GET (baseline)')!, 50)
  console.log(`
| tier (${iterations} reads each, interleaved, one process pinned) | p50 µs | p99 µs | p50 / Redis GET |
| --- | ---: | ---: | ---: |`)
  for (const [tier, list] of samples) {
    console.log(
      `| ${tier} | ${percentile(list, 50).toFixed(1)} | ${percentile(list, 99).toFixed(1)} | ${(percentile(list, 50) / base).toFixed(2)} |`,
    )
  }
} finally {
  unpinRedis()
  for (const node of [writer, reader]) {
    await node.caches.close()
    node.redis.disconnect()
    node.subscriber.disconnect()
  }
  await deleteKeys(TEST_REDIS_URL, `${prefix}*`)
}
