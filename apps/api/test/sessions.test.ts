import { TEST_REDIS_URL } from '@tms/testing'
import t from 'tap'
import { heldRequest, sessionIdOf, watchKey } from './session-helpers.js'
import { buildTestApi, isolatedEnv, loginCookie, sessionCookieOf } from './support.js'

const WRITES = new Set(['SET', 'HSET', 'HDEL', 'DEL', 'UNLINK', 'EVALSHA', 'EVAL'])

t.test('a request that does not change the session writes nothing; its read slides the TTL', async (t) => {
  const api = await buildTestApi(t)
  const cookie = await loginCookie(api.app)
  const key = api.keyspace.key('sess', sessionIdOf(cookie))
  await api.redis.expire(key, 100)
  const watch = await watchKey(t, TEST_REDIS_URL, key)
  for (let i = 0; i < 3; i++) {
    const me = await api.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })
    t.equal(me.statusCode, 200)
    t.notOk(me.headers['set-cookie'], 'no cookie rewritten either')
  }
  await watch.until('GETEX', 3)
  t.same(
    watch.commands().filter((c) => WRITES.has(c)),
    [],
    'no write command touched the session',
  )
  t.ok((await api.redis.ttl(key)) > 8 * 3600 - 5, 'TTL is back to the full 8 h')
})

t.test('login issues a new session id and deletes the old one (fixation)', async (t) => {
  const api = await buildTestApi(t)
  const planted = await loginCookie(api.app)
  const login = await api.app.inject({
    method: 'POST',
    url: '/auth/login',
    headers: { cookie: planted },
    payload: { email: 'admin@test.local', password: 'admin password for tests' },
  })
  const fresh = sessionCookieOf(login.headers['set-cookie'])
  t.not(sessionIdOf(fresh), sessionIdOf(planted))
  t.equal(await api.redis.exists(api.keyspace.key('sess', sessionIdOf(planted))), 0, 'old session deleted')
  t.equal((await api.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: planted } })).statusCode, 401)
  t.equal((await api.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: fresh } })).statusCode, 200)
})

t.test('after logout, a slower request already in flight cannot bring the session back', async (t) => {
  const api = await buildTestApi(t)
  await api.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (api.app.server.address() as { port: number }).port
  const cookie = await loginCookie(api.app)
  const key = api.keyspace.key('sess', sessionIdOf(cookie))
  const watch = await watchKey(t, TEST_REDIS_URL, key)

  const slow = heldRequest(port, { method: 'PATCH', path: '/auth/me/preferences', cookie, body: { packingStation: 'PACK-01' } })
  await watch.until('GETEX', 1) // the slow request has read the session
  const logout = await api.app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })
  t.equal(logout.statusCode, 204)
  t.match(logout.headers['set-cookie'], /tms\.sid=;/, 'the cookie is cleared')
  const late = await slow.release()
  t.equal(late.status, 200, 'the slow request itself completes')
  t.equal(await api.redis.exists(key), 0, 'the session stays deleted')
  t.equal((await api.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })).statusCode, 401)
})

t.test('two concurrent requests changing different session keys both keep their change', async (t) => {
  const api = await buildTestApi(t)
  await api.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (api.app.server.address() as { port: number }).port
  const cookie = await loginCookie(api.app)
  const watch = await watchKey(t, TEST_REDIS_URL, api.keyspace.key('sess', sessionIdOf(cookie)))

  const station = heldRequest(port, {
    method: 'PATCH',
    path: '/auth/me/preferences',
    cookie,
    body: { packingStation: 'PACK-07' },
  })
  const printer = heldRequest(port, { method: 'PATCH', path: '/auth/me/preferences', cookie, body: { labelPrinter: 'ZEBRA-2' } })
  await watch.until('GETEX', 2) // both read the session before either writes
  t.equal((await station.release()).status, 200)
  t.equal((await printer.release()).status, 200)
  const prefs = await api.app.inject({ method: 'GET', url: '/auth/me/preferences', headers: { cookie } })
  t.same(prefs.json(), { packingStation: 'PACK-07', labelPrinter: 'ZEBRA-2' })
  t.equal((await api.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })).statusCode, 200, 'still logged in')
})

t.test('secrets rotate without logging anyone out', async (t) => {
  const oldSecret = 'o'.repeat(40)
  const newSecret = 'n'.repeat(40)
  const env = await isolatedEnv(t)
  const before = await buildTestApi(t, { ...env, SESSION_SECRETS: oldSecret })
  const cookie = await loginCookie(before.app)

  const rotating = await buildTestApi(t, { ...env, SESSION_SECRETS: `${newSecret},${oldSecret}` })
  const me = await rotating.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })
  t.equal(me.statusCode, 200, 'a cookie signed with the old secret still verifies')
  const resigned = sessionCookieOf(me.headers['set-cookie'])
  t.equal(sessionIdOf(resigned), sessionIdOf(cookie), 'same session, new signature')
  t.not(resigned, cookie)

  const after = await buildTestApi(t, { ...env, SESSION_SECRETS: newSecret })
  t.equal((await after.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: resigned } })).statusCode, 200)
  t.equal(
    (await after.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })).statusCode,
    401,
    'once the old secret is dropped, only re-signed cookies work',
  )
  t.equal(
    (await before.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: resigned } })).statusCode,
    401,
    'sanity: the signature changed',
  )
})

t.test('the cookie is HttpOnly and SameSite=Lax, and Secure behind TLS when the proxy is trusted', async (t) => {
  const login = (api: Awaited<ReturnType<typeof buildTestApi>>, headers: Record<string, string> = {}) =>
    api.app.inject({
      method: 'POST',
      url: '/auth/login',
      headers,
      payload: { email: 'admin@test.local', password: 'admin password for tests' },
    })
  const plain = await buildTestApi(t)
  const direct = String((await login(plain)).headers['set-cookie'])
  t.match(direct, /HttpOnly/)
  t.match(direct, /SameSite=Lax/)
  t.notMatch(direct, /Secure/, 'plain HTTP: no Secure, or the browser would drop it')
  t.notMatch(
    String((await login(plain, { 'x-forwarded-proto': 'https' })).headers['set-cookie']),
    /Secure/,
    'an untrusted header is ignored',
  )

  const proxied = await buildTestApi(t, await isolatedEnv(t, { TRUST_PROXY: 'true' }))
  const viaTls = String((await login(proxied, { 'x-forwarded-proto': 'https' })).headers['set-cookie'])
  t.match(viaTls, /Secure/)
  t.match(viaTls, /SameSite=Lax/)
  t.match(viaTls, /HttpOnly/)
})
