import type { Redis } from 'ioredis'
import t from 'tap'
import { warmUp } from '../src/warm-up.js'
import { buildTestApi } from './support.js'

t.test(
  'the warm-up runs the authenticated paths, answered as a warehouse client would be, and leaves nothing behind',
  async (t) => {
    const { app, redis, keyspace } = await buildTestApi(t)

    const issued = await app.issueSession({ user: { id: 'probe', email: 'probe@tms.invalid', roles: ['agent'] } })
    t.equal((await app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: issued.cookie } })).statusCode, 200)
    await issued.end()
    t.equal(
      (await app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: issued.cookie } })).statusCode,
      401,
      'an issued session ends for good',
    )

    // 10 rounds of the mix, one at a time: every path answered as intended, none refused for
    // want of a login.
    const stateBefore = await stateKeysOf(redis, keyspace.prefix)
    const result = await warmUp(app, { requests: 140, concurrency: 1 })
    t.equal(result.requests, 140)
    t.same(result.statuses, { 200: 70, 400: 10, 404: 40, 409: 20 }, 'reads 200; the no-op writes 400, 404 and 409')
    // In parallel, the lanes' claims on the same absent shipment meet (an extend may find one held).
    const parallel = await warmUp(app, { requests: 140 })
    t.equal(parallel.requests, 140)
    t.same(Object.keys(parallel.statuses).sort(), ['200', '400', '404', '409'], JSON.stringify(parallel.statuses))

    // Sessions and locks (claims, their index) as before; what it read may be cached or queued.
    t.same(await stateKeysOf(redis, keyspace.prefix), stateBefore, 'no session, claim or claim index entry is left in Redis')

    t.same(await warmUp(app, { requests: 0 }), { requests: 0, durationMs: 0, statuses: {} }, '0 turns it off')
  },
)

/** Session and lock keys (claims and their index), not the fencing counter that only grows. */
async function stateKeysOf(redis: Redis, prefix: string): Promise<string[]> {
  const keys = await redis.keys(`${prefix}*`)
  return keys.filter((k) => /:(sess|lock):/.test(k) && !k.endsWith(':fence')).sort()
}
