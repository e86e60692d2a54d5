import { REDIS_COMMAND_TIMEOUT_MS } from '@tms/redis'
import { eventually, generousBound, startTcpProxy, TEST_REDIS_URL } from '@tms/testing'
import { Redis } from 'ioredis'
import t from 'tap'
import { cookieFrom, http } from '../http-client.js'
import { sessionIdOf } from '../session-helpers.js'
import { ADMIN, isolatedEnv, startApiProcess } from '../support.js'

/**
 * Polls until `check` passes; returns how long recovery took. The bound only ends a test that
 * would otherwise hang: recovery takes a reconnect (backoff up to 1 s), on a busy machine longer.
 */
const RECOVERY_MS = 30_000

/** How long until `check` passes (recovery), polling every 100 ms for at most `ms`. */
const within = async (ms: number, check: () => Promise<boolean>): Promise<number> =>
  (await eventually(check, { withinMs: ms, everyMs: 100, what: 'recovery' })).ms

t.test('Redis refusing connections: clear 503s, then recovery on its own', async (t) => {
  const proxy = await startTcpProxy(t, '127.0.0.1', 6379)
  const env = await isolatedEnv(t, { REDIS_URL: `redis://127.0.0.1:${proxy.port}` })
  const api = await startApiProcess(t, env)
  const cookie = cookieFrom(await http(api.url, 'POST', '/auth/login', { body: ADMIN }))

  proxy.refuse()
  const me = await http(api.url, 'GET', '/auth/me', { cookie })
  t.equal(me.status, 503)
  t.equal(me.json<{ message: string }>().message, 'the session and cache store is unavailable; try again shortly')
  const ready = await http(api.url, 'GET', '/health/ready')
  t.equal(ready.status, 503)
  t.same(ready.json(), { status: 'degraded', checks: { redis: 'down', database: 'ok' } }, 'says down, not why')
  t.ok(await api.child.waitForLog((l) => l.msg === 'readiness check failed' && l.check === 'redis'), 'the reason is in the log')
  t.equal((await http(api.url, 'GET', '/health/live')).status, 200, 'alive: the orchestrator must not restart it')

  proxy.restore()
  const took = await within(RECOVERY_MS, async () => (await http(api.url, 'GET', '/auth/me', { cookie })).status === 200)
  t.pass(`the same session works again ${took} ms after Redis came back, without a restart`)
  t.equal((await http(api.url, 'GET', '/health/ready')).status, 200)
  t.ok(api.child.running)
  // Logs reach stdout in batches (at most 200 ms apart): wait for the line, do not expect it yet.
  t.ok(await api.child.waitForLog((l) => l.msg === 'redis connection restored', RECOVERY_MS))
})

t.test('Redis silent (packets dropped): bounded 503s, then recovery', async (t) => {
  const proxy = await startTcpProxy(t, '127.0.0.1', 6379)
  const api = await startApiProcess(t, await isolatedEnv(t, { REDIS_URL: `redis://127.0.0.1:${proxy.port}` }))
  const cookie = cookieFrom(await http(api.url, 'POST', '/auth/login', { body: ADMIN }))

  proxy.blackhole()
  const started = Date.now()
  const me = await http(api.url, 'GET', '/auth/me', { cookie })
  const waited = Date.now() - started
  t.equal(me.status, 503)
  t.ok(waited < generousBound(REDIS_COMMAND_TIMEOUT_MS), `answered within the command timeout (${waited} ms)`)

  proxy.restore()
  const took = await within(RECOVERY_MS, async () => (await http(api.url, 'GET', '/auth/me', { cookie })).status === 200)
  t.pass(`recovered ${took} ms after the network came back`)
  for (let i = 0; i < 20; i++) {
    const again = await http(api.url, 'GET', '/auth/me', { cookie })
    t.equal(again.json<{ user: { email: string } }>().user.email, ADMIN.email, 'replies match their commands')
  }
})

t.test('database unreachable: clear 503s, then recovery on its own', async (t) => {
  const proxy = await startTcpProxy(t, '127.0.0.1', 5432)
  const base = new URL((await isolatedEnv(t)).DATABASE_URL!)
  base.port = String(proxy.port)
  const env = await isolatedEnv(t, { DATABASE_URL: base.toString() })
  const api = await startApiProcess(t, env)
  const cookie = cookieFrom(await http(api.url, 'POST', '/auth/login', { body: ADMIN }))

  proxy.refuse()
  const list = await http(api.url, 'GET', '/shipments', { cookie })
  t.equal(list.status, 503)
  t.equal(list.json<{ message: string }>().message, 'the database is unavailable; try again shortly')
  t.same((await http(api.url, 'GET', '/health/ready')).json(), { status: 'degraded', checks: { database: 'down', redis: 'ok' } })
  t.equal((await http(api.url, 'GET', '/auth/me', { cookie })).status, 200, 'sessions do not need the database')
  // A login whose password could not be checked is no failed login: six of them (the limit is
  // five) leave the owner free to log in once the database is back.
  for (let i = 0; i < 6; i++) t.equal((await http(api.url, 'POST', '/auth/login', { body: ADMIN })).status, 503)

  proxy.restore()
  const took = await within(RECOVERY_MS, async () => (await http(api.url, 'GET', '/shipments', { cookie })).status === 200)
  t.pass(`recovered ${took} ms after the database came back`)
  t.equal((await http(api.url, 'POST', '/auth/login', { body: ADMIN })).status, 200, 'the outage counted no failures')
})

t.test('a Redis error in the log names its command, never its keys (a session id is one)', async (t) => {
  const env = await isolatedEnv(t)
  const api = await startApiProcess(t, env)
  const cookie = cookieFrom(await http(api.url, 'POST', '/auth/login', { body: ADMIN }))
  const sessionId = sessionIdOf(cookie)
  // The session's key holding a hash: GETEX refuses it with a reply error that carries its arguments.
  const redis = new Redis(TEST_REDIS_URL)
  t.teardown(() => redis.quit())
  const key = `${env.REDIS_KEY_PREFIX}sess:${sessionId}`
  await redis.del(key)
  await redis.hset(key, 'x', '1')
  t.equal((await http(api.url, 'GET', '/auth/me', { cookie })).status, 500)
  const line = await api.child.waitForLog((l) => l.msg === 'request failed')
  t.match(line, { err: { command: { name: 'getex', args: '[3 redacted]' } } }, 'the command is named')
  t.notMatch(JSON.stringify(api.child.logs), sessionId, 'the session id is in no log line')
})
