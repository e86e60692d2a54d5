import { eventually, generousBound, startTcpProxy } from '@tms/testing'
import t, { type Test } from 'tap'
import { closeRedis, connectRedis, createRedis, REDIS_COMMAND_TIMEOUT_MS } from '../src/create-redis.js'
import { isRedisUnavailable } from '../src/errors.js'
import { Keyspace } from '../src/keyspace.js'

const warnings: string[] = []
const logger = { info: () => {}, warn: (_o: object, msg: string) => void warnings.push(msg) }

async function proxied(t: Test) {
  const proxy = await startTcpProxy(t, '127.0.0.1', 6379)
  const redis = createRedis(`redis://127.0.0.1:${proxy.port}`, { connectionName: 'redis-test', logger })
  t.teardown(() => redis.disconnect())
  await connectRedis(redis)
  return { proxy, redis }
}

async function settle<T>(promise: Promise<T>): Promise<{ ms: number; error?: unknown; value?: T }> {
  const started = Date.now()
  try {
    const value = await promise // before reading the clock: an object literal evaluates in order
    return { ms: Date.now() - started, value }
  } catch (error) {
    return { ms: Date.now() - started, error }
  }
}

/** Waits for recovery; the bound only ends a test that would otherwise hang. */
const RECOVERY_MS = 30_000

const recovered = async (check: () => Promise<boolean>, ms = RECOVERY_MS): Promise<number> =>
  (await eventually(check, { withinMs: ms, everyMs: 100, what: 'recovery' })).ms

t.test('keys live under one prefix', async (t) => {
  const keys = new Keyspace('tms:')
  t.equal(keys.key('sess', 'abc'), 'tms:sess:abc')
  t.equal(keys.child('lock').key('shipment', 7), 'tms:lock:shipment:7')
})

t.test('Redis refusing connections: commands fail within the bound, clearly, then work again', async (t) => {
  const { proxy, redis } = await proxied(t)
  proxy.refuse()
  const failed = await settle(redis.ping())
  t.ok(failed.error, 'the command fails')
  t.ok(isRedisUnavailable(failed.error), `recognised as unavailability (${(failed.error as Error).message})`)
  t.ok(failed.ms < generousBound(REDIS_COMMAND_TIMEOUT_MS), `within the command timeout's bound (${failed.ms} ms)`)
  proxy.restore()
  const took = await recovered(async () => (await redis.ping()) === 'PONG')
  t.pass(`answers again ${took} ms after Redis is back`)
})

t.test('Redis silent: commands time out, the connection resets, replies stay matched after recovery', async (t) => {
  const { proxy, redis } = await proxied(t)
  proxy.blackhole()
  const timedOut = await settle(redis.echo('lost'))
  t.match((timedOut.error as Error)?.message, /Command timed out/)
  t.ok(timedOut.ms < generousBound(REDIS_COMMAND_TIMEOUT_MS), `within the command timeout's bound (${timedOut.ms} ms)`)
  t.ok(isRedisUnavailable(timedOut.error))
  proxy.restore()
  await recovered(async () => (await redis.ping()) === 'PONG')
  const echoes = await Promise.all(Array.from({ length: 50 }, (_, i) => redis.echo(`m${i}`)))
  t.same(
    echoes,
    Array.from({ length: 50 }, (_, i) => `m${i}`),
    'every reply belongs to its own command',
  )
  t.ok(warnings.includes('redis command timed out; reconnecting'))
})

t.test('connectRedis fails with a clear error instead of retrying silently', async (t) => {
  const redis = createRedis('redis://127.0.0.1:1', { connectionName: 'nowhere' })
  t.teardown(() => redis.disconnect())
  await t.rejects(connectRedis(redis, 500), /redis not reachable after 500 ms \(127\.0\.0\.1:1\)/)
})

t.test('closeRedis returns promptly even when Redis is gone', async (t) => {
  const { proxy, redis } = await proxied(t)
  proxy.blackhole()
  const closed = await settle(closeRedis(redis, 300))
  t.ok(closed.ms < generousBound(300), `closed in ${closed.ms} ms (bound 300 ms)`)
  t.equal(closed.error, undefined)
})

t.test('isRedisUnavailable tells outages from command errors', async (t) => {
  t.ok(isRedisUnavailable(Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' })))
  t.ok(isRedisUnavailable(new Error('connect ECONNREFUSED 127.0.0.1:6379')))
  t.notOk(isRedisUnavailable(new Error("ERR unknown command 'NOPE'")))
  t.notOk(isRedisUnavailable('not an error'))
})
