import { randomBytes } from 'node:crypto'
import { connectRedis, createRedis, Keyspace } from '@tms/redis'
import { isolatedRedisPrefix, TEST_REDIS_URL } from '@tms/testing'
import t, { type Test } from 'tap'
import {
  compact,
  DEFLATED_ANSWER_MAX_BYTES,
  IdempotencyStore,
  PLAIN_ANSWER_MAX_BYTES,
  replayBody,
} from '../src/http/idempotency-store.js'

async function store(t: Test, limits: { maxKeys: number; maxBytes: number }) {
  const redis = createRedis(TEST_REDIS_URL, { connectionName: 'idempotency-store-test' })
  t.teardown(() => redis.disconnect())
  await connectRedis(redis)
  const keyspace = new Keyspace(`${isolatedRedisPrefix(t)}idem:`)
  return { redis, keyspace, store: new IdempotencyStore(redis, keyspace, { ...limits, ttlMs: 60_000, inProgressMs: 30_000 }) }
}

const answer = (body: string) => ({ fingerprint: 'f', status: 200, contentType: 'application/json', body })

t.test('answers are kept as they are, deflated, or as a summary, by size; each replays what it can', async (t) => {
  const small = answer('{"ok":true}')
  t.same(replayBody(compact(small)), small.body)
  const repetitive = answer(
    JSON.stringify({ rejected: Array.from({ length: 1000 }, (_, i) => ({ index: i, message: 'not in the catalogue' })) }),
  )
  t.ok(repetitive.body.length > PLAIN_ANSWER_MAX_BYTES)
  const deflated = compact(repetitive)
  t.ok(
    deflated.deflated && deflated.deflated.length < DEFLATED_ANSWER_MAX_BYTES,
    `deflated to ${deflated.deflated?.length} bytes`,
  )
  t.equal(replayBody(deflated), repetitive.body, 'inflated byte for byte')
  const noise = answer(randomBytes(60_000).toString('base64'))
  const summary = compact(noise)
  t.match(summary, { status: 200, body: '', summary: { bytes: noise.body.length, sha256: String } })
  t.equal(replayBody(summary), null, 'a summary replays no body')
})

t.test("a principal's oldest finished answers make room; keys in flight never do; other principals are untouched", async (t) => {
  const { redis, keyspace, store: answers } = await store(t, { maxKeys: 3, maxBytes: 100_000 })
  for (const key of ['k1', 'k2', 'k3']) {
    t.same(await answers.claim('ada', key, 'f'), { claimed: true })
    t.ok(await answers.store('ada', key, answer(`{"key":"${key}"}`)))
  }
  t.same(await answers.claim('bob', 'k1', 'f'), { claimed: true }, 'another principal, its own room')
  t.same(await answers.claim('ada', 'k4', 'f'), { claimed: true }, 'a fourth: ada’s oldest goes')
  t.equal(await redis.exists(keyspace.key('ada', 'k1')), 0, 'k1 went')
  t.equal(await redis.exists(keyspace.key('ada', 'k2')), 1)
  t.equal(await redis.exists(keyspace.key('bob', 'k1')), 1, "bob's k1 stays")
  t.equal((await answers.usage('ada')).keys, 3, 'three keys, as the bound says')

  // Three in flight at once: nothing finished to drop, and no request in flight is ever dropped.
  const { store: busy } = await store(t, { maxKeys: 3, maxBytes: 100_000 })
  for (const key of ['a', 'b', 'c']) t.same(await busy.claim('cy', key, 'f'), { claimed: true })
  t.same(await busy.claim('cy', 'd', 'f'), { claimed: false, full: true })
  await busy.free('cy', 'a')
  t.same(await busy.claim('cy', 'd', 'f'), { claimed: true }, 'room again once one is answered')
})

t.test('bytes are bounded as keys are, and the bounds hold for fifty claims at once', async (t) => {
  const { redis, keyspace, store: answers } = await store(t, { maxKeys: 1000, maxBytes: 20_000 })
  await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      if ((await answers.claim('ada', `k${i}`, 'f')).claimed) await answers.store('ada', `k${i}`, answer('x'.repeat(3000)))
    }),
  )
  const usage = await answers.usage('ada')
  t.ok(usage.bytes <= 20_000, `${usage.bytes} bytes kept`)
  const keys = (await redis.keys(`${keyspace.prefix}ada:*`)).filter((k) => !k.includes(':#'))
  const stored = (await Promise.all(keys.map((k) => redis.strlen(k)))).reduce((a, b) => a + b, 0)
  t.ok(stored <= 20_000, `Redis holds ${stored} bytes of answers for ada: its accounting is the truth`)
  t.equal(usage.keys, keys.length)
})
