import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { ADMIN, buildTestApi, isolatedEnv, loginCookie, userCookie } from './support.js'

const address = { name: 'Ada', street: 'Main 1', city: 'Linz', postalCode: '4020', country: 'AT' }
const shipmentRequest = (orderId: string) => ({ orderId, items: [{ sku: 'TRK-1', quantity: 1 }], address })

t.test('login, me, logout', async (t) => {
  const { app } = await buildTestApi(t)
  const wrong = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: ADMIN.email, password: 'nope' } })
  t.equal(wrong.statusCode, 401)
  t.match(wrong.json(), { code: 'WRONG_CREDENTIALS', message: 'wrong email or password' })
  const unknown = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email: 'ghost@test.local', password: 'nope' },
  })
  t.same(unknown.json(), wrong.json(), 'an unknown account looks the same as a wrong password')
  t.equal((await app.inject({ method: 'GET', url: '/auth/me' })).statusCode, 401)
  const cookie = await loginCookie(app)
  t.same((await app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })).json().user.roles, ['admin'])
  t.equal((await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })).statusCode, 204)
  t.equal((await app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })).statusCode, 401)
})

t.test('roles decide what a caller may do', async (t) => {
  const { app } = await buildTestApi(t)
  const admin = await loginCookie(app)
  const agent = await userCookie(app, admin, ['agent'])
  const operator = await userCookie(app, admin, ['operator'])
  const post = (cookie: string | undefined, url: string, payload: unknown) =>
    app.inject({ method: 'POST', url, payload: payload as object, headers: cookie ? { cookie } : {} })
  t.equal((await app.inject({ method: 'GET', url: '/shipments' })).statusCode, 401, 'anonymous')
  t.equal((await app.inject({ method: 'GET', url: '/shipments', headers: { cookie: agent.cookie } })).statusCode, 200)
  const denied = await post(agent.cookie, '/shipment-requests', shipmentRequest('o-1'))
  t.equal(denied.statusCode, 403)
  t.match(denied.json(), { code: 'ROLE_REQUIRED', message: 'this needs the operator role' })
  t.equal((await post(operator.cookie, '/shipment-requests', shipmentRequest('o-1'))).statusCode, 201)
  t.equal(
    (await post(operator.cookie, '/users', { email: 'x@y.io', password: 'long enough pw', roles: ['agent'] })).statusCode,
    403,
  )
  t.equal((await post(admin, '/shipment-requests', shipmentRequest('o-2'))).statusCode, 201, 'admin may do what an operator may')
  const dup = await post(admin, '/users', { email: agent.email, password: 'long enough pw', roles: ['agent'] })
  t.equal(dup.statusCode, 409)
  t.match(dup.json().message, /already exists/)
})

t.test('API tokens: a machine client works by Bearer token until the token is revoked', async (t) => {
  const { app } = await buildTestApi(t)
  const admin = await loginCookie(app)
  const created = await app.inject({
    method: 'POST',
    url: '/api-tokens',
    headers: { cookie: admin },
    payload: { name: 'shop sync', roles: ['operator'] },
  })
  t.equal(created.statusCode, 201)
  const { id, token } = created.json<{ id: string; token: string }>()
  const bearer = { authorization: `Bearer ${token}` }
  t.equal(
    (await app.inject({ method: 'POST', url: '/shipment-requests', headers: bearer, payload: shipmentRequest('o-9') }))
      .statusCode,
    201,
  )
  t.equal(
    (await app.inject({ method: 'POST', url: '/api-tokens', headers: bearer, payload: { name: 'x', roles: ['admin'] } }))
      .statusCode,
    403,
  )
  t.equal(
    (await app.inject({ method: 'GET', url: '/shipments', headers: { authorization: 'Bearer tms_forged' } })).statusCode,
    401,
  )
  t.equal((await app.inject({ method: 'GET', url: '/shipments', headers: { authorization: 'Basic abc' } })).statusCode, 401)
  t.equal((await app.inject({ method: 'DELETE', url: `/api-tokens/${id}`, headers: { cookie: admin } })).statusCode, 204)
  const revoked = await app.inject({ method: 'GET', url: '/shipment-requests', headers: bearer })
  t.equal(revoked.statusCode, 401)
  t.match(revoked.json(), { code: 'INVALID_TOKEN', message: 'invalid, expired or revoked API token' })
  t.equal(
    (await app.inject({ method: 'DELETE', url: '/api-tokens/11111111-1111-4111-8111-111111111111', headers: { cookie: admin } }))
      .statusCode,
    404,
  )
})

const login = (api: { app: import('fastify').FastifyInstance }, email: string, password: string, ip = '10.0.0.1') =>
  api.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password }, remoteAddress: ip })

t.test('100 wrong passwords at once on two instances: at most the limit is checked, the owner still gets in', async (t) => {
  const env = await isolatedEnv(t, { LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: '5' })
  const one = await buildTestApi(t, env)
  const two = await buildTestApi(t, env)
  const answers = await Promise.all(
    Array.from({ length: 100 }, (_, i) => login(i % 2 ? one : two, ADMIN.email, `guess-${i}`, '10.0.0.66')),
  )
  const statuses = answers.map((a) => a.statusCode)
  t.equal(statuses.filter((s) => s === 401).length, 5, 'exactly 5 passwords were checked (401)')
  t.equal(statuses.filter((s) => s === 429).length, 95, 'the other 95 were refused unchecked (429)')
  const refused = answers.find((a) => a.statusCode === 429)!
  t.ok(Number(refused.headers['retry-after']) > 0, 'a 429 says when to try again')
  t.match(refused.json(), { code: 'TOO_MANY_LOGINS', message: /too many failed logins/ })

  t.equal((await login(one, ADMIN.email, ADMIN.password, '10.0.0.66')).statusCode, 429, 'the guessing address stays refused')
  t.equal((await login(two, ADMIN.email, ADMIN.password, '10.0.0.7')).statusCode, 200, 'the owner, from another address, gets in')
})

t.test('one address is limited over all accounts', async (t) => {
  const env = await isolatedEnv(t, { LOGIN_MAX_FAILURES_PER_ADDRESS: '6' })
  const one = await buildTestApi(t, env)
  const two = await buildTestApi(t, env)
  for (let i = 0; i < 6; i++) t.equal((await login(i % 2 ? one : two, `nobody${i}@test.local`, 'x')).statusCode, 401)
  t.equal((await login(two, 'someone@test.local', 'x')).statusCode, 429, 'the address is refused after 6 failures')
  t.equal((await login(one, 'someone@test.local', 'x', '10.0.0.2')).statusCode, 401, 'another address is not')
})

t.test('failures on one account from many addresses slow it down, doubling, and never lock it', async (t) => {
  const { app } = await buildTestApi(t, await isolatedEnv(t, { LOGIN_SLOW_DOWN_AFTER: '3' }))
  const api = { app }
  for (let i = 0; i < 3; i++) t.equal((await login(api, ADMIN.email, 'wrong', `10.1.0.${i}`)).statusCode, 401)
  // Past the threshold: one attempt, then a wait of 1 s before the next, then 2 s, then 4 s.
  for (const expectedWait of [1, 2, 4]) {
    t.equal((await login(api, ADMIN.email, 'wrong', '10.1.1.1')).statusCode, 401, 'one attempt goes through')
    const slowed = await login(api, ADMIN.email, ADMIN.password, '10.1.2.2')
    t.equal(slowed.statusCode, 429, 'the next must wait, from any address, right password or not')
    const wait = Number(slowed.headers['retry-after'])
    t.ok(wait >= 1 && wait <= expectedWait, `retry-after ${wait} s (delay ${expectedWait} s)`)
    await sleep(expectedWait * 1000 + 100)
  }
  t.equal((await login(api, ADMIN.email, ADMIN.password, '10.1.2.2')).statusCode, 200, 'after the wait, the owner gets in')
})

t.test('a successful login takes its attempt back and clears its pair', async (t) => {
  const api = await buildTestApi(t, await isolatedEnv(t, { LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: '3' }))
  for (let round = 1; round <= 3; round++) {
    t.equal((await login(api, ADMIN.email, 'wrong')).statusCode, 401)
    t.equal((await login(api, ADMIN.email, 'wrong')).statusCode, 401)
    t.equal((await login(api, ADMIN.email, ADMIN.password)).statusCode, 200, `round ${round}: the right password gets in`)
  }
  const address = await api.redis.get(`${api.keyspace.prefix}login-failures:address:10.0.0.1`)
  t.equal(address, '6', 'the address counts its 6 failures, not the 3 successes')
})

/** The device cookie a login answered (`tms.device.<account>=<id>.<signature>`). */
function deviceCookieOf(setCookie: string | string[] | undefined): string {
  const found = ([] as string[]).concat(setCookie ?? []).find((c) => c.startsWith('tms.device.'))
  if (!found) throw new Error(`no device cookie in ${JSON.stringify(setCookie)}`)
  return found.split(';')[0]!
}

const loginWith = (
  api: { app: import('fastify').FastifyInstance },
  email: string,
  password: string,
  ip: string,
  cookie?: string,
) =>
  api.app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password },
    remoteAddress: ip,
    ...(cookie ? { headers: { cookie } } : {}),
  })

t.test('a login gives the browser a device cookie of that account: signed, HttpOnly, for /auth only', async (t) => {
  const api = await buildTestApi(t)
  const first = await loginWith(api, ADMIN.email, ADMIN.password, '10.7.0.1')
  const setCookie = ([] as string[]).concat(first.headers['set-cookie'] ?? []).find((c) => c.startsWith('tms.device.'))!
  t.match(setCookie, /; Max-Age=15552000; Path=\/auth; HttpOnly; SameSite=Strict/)
  const again = await loginWith(api, ADMIN.email, ADMIN.password, '10.7.0.1', deviceCookieOf(first.headers['set-cookie']))
  t.notOk(
    ([] as string[]).concat(again.headers['set-cookie'] ?? []).some((c) => c.startsWith('tms.device.')),
    'a known device keeps its cookie',
  )
})

t.test('while others guess an account from many addresses, its owner’s known browser gets in at once', async (t) => {
  const api = await buildTestApi(t, await isolatedEnv(t, { LOGIN_SLOW_DOWN_AFTER: '3' }))
  const known = deviceCookieOf((await loginWith(api, ADMIN.email, ADMIN.password, '10.8.0.1')).headers['set-cookie'])
  for (let i = 0; i < 4; i++) t.equal((await loginWith(api, ADMIN.email, 'guess', `10.8.1.${i}`)).statusCode, 401)
  t.equal((await loginWith(api, ADMIN.email, 'guess', '10.8.1.9')).statusCode, 429, 'the account is slowed down')
  t.equal((await loginWith(api, ADMIN.email, ADMIN.password, '10.8.2.2')).statusCode, 429, 'for an unknown browser too')
  t.equal(
    (await loginWith(api, ADMIN.email, ADMIN.password, '10.8.1.9', known)).statusCode,
    200,
    'the owner’s browser is not: it logged in as this account before',
  )
})

t.test('one host behind the warehouse’s NAT exhausting its address: agents’ known browsers still get in', async (t) => {
  const api = await buildTestApi(t, await isolatedEnv(t, { LOGIN_MAX_FAILURES_PER_ADDRESS: '6' }))
  const nat = '10.9.0.1'
  const admin = await loginCookie(api.app)
  const colleague = await userCookie(api.app, admin, ['agent'])
  const known = deviceCookieOf((await loginWith(api, ADMIN.email, ADMIN.password, nat)).headers['set-cookie'])
  for (let i = 0; i < 6; i++) await loginWith(api, `nobody${i}@test.local`, 'x', nat)
  t.equal(
    (await loginWith(api, colleague.email, 'a long enough password', nat)).statusCode,
    429,
    'an unknown browser there waits',
  )
  t.equal((await loginWith(api, ADMIN.email, ADMIN.password, nat, known)).statusCode, 200, 'a known one does not')
})

t.test('a device cookie counts only for its account, signed by us; a stolen one is bounded on its own', async (t) => {
  const env = await isolatedEnv(t, { LOGIN_MAX_FAILURES_PER_DEVICE: '3', LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: '2' })
  const api = await buildTestApi(t, env)
  const admin = await loginCookie(api.app)
  const other = await userCookie(api.app, admin, ['agent'])
  const ip = '10.10.0.1'
  const otherDevice = deviceCookieOf((await loginWith(api, other.email, 'a long enough password', ip)).headers['set-cookie'])
  const adminDevice = deviceCookieOf((await loginWith(api, ADMIN.email, ADMIN.password, '10.10.9.9')).headers['set-cookie'])
  const [name, value] = adminDevice.split('=') as [string, string]
  const forged = `${name}=${value.slice(0, -3)}AAA`
  // Another account's cookie, and a forged one: unknown devices, held to the pair's limit of 2.
  t.equal((await loginWith(api, ADMIN.email, 'guess', ip, otherDevice)).statusCode, 401)
  t.equal((await loginWith(api, ADMIN.email, 'guess', ip, forged)).statusCode, 401)
  t.equal((await loginWith(api, ADMIN.email, ADMIN.password, ip, forged)).statusCode, 429, 'neither counted as known')
  // The admin's real cookie, stolen: 3 guesses with it, then it is an unknown device's like any other.
  const thief = '10.10.5.5'
  for (let i = 0; i < 3; i++) t.equal((await loginWith(api, ADMIN.email, 'guess', thief, adminDevice)).statusCode, 401)
  t.equal((await loginWith(api, ADMIN.email, 'guess', thief, adminDevice)).statusCode, 401, 'now counted as unknown: 1 of 2')
  t.equal((await loginWith(api, ADMIN.email, 'guess', thief, adminDevice)).statusCode, 401, '2 of 2')
  t.equal((await loginWith(api, ADMIN.email, 'guess', thief, adminDevice)).statusCode, 429, 'and held to its limits')
})

t.test('POST /auth/me/password goes through the login limits: a terminal left open is no guessing machine', async (t) => {
  const api = await buildTestApi(t, await isolatedEnv(t, { LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: '3' }))
  const admin = await loginCookie(api.app)
  const agent = await userCookie(api.app, admin, ['agent'])
  const change = (currentPassword: string) =>
    api.app.inject({
      method: 'POST',
      url: '/auth/me/password',
      headers: { cookie: agent.cookie },
      payload: { currentPassword, newPassword: 'a brand new password' },
    })
  for (let i = 0; i < 3; i++) t.equal((await change(`guess ${i}`)).statusCode, 403, 'WRONG_PASSWORD')
  const refused = await change('a long enough password')
  t.equal(refused.statusCode, 429, 'the right one too, until the window ends')
  t.match(refused.json(), { code: 'TOO_MANY_LOGINS' })
  t.ok(Number(refused.headers['retry-after']) > 0)
  t.equal((await loginWith(api, agent.email, 'a long enough password', '127.0.0.1')).statusCode, 429, 'one limit for both')
})

t.test('50 logins at once on one instance: at most PASSWORD_HASH_CONCURRENCY hashes, the rest wait or get a 503', async (t) => {
  // Production's cost: each scrypt 128 MiB; one at a time, and a short wait, so that some must give up.
  const env = await isolatedEnv(t, {
    PASSWORD_SCRYPT_LOG_N: '14',
    PASSWORD_HASH_CONCURRENCY: '1',
    PASSWORD_HASH_MAX_WAIT_MS: '300',
    // Fifty attempts in flight count as fifty reserved failures: not what this test is about.
    LOGIN_SLOW_DOWN_AFTER: '1000',
  })
  const api = await buildTestApi(t, env)
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, i) => loginWith(api, ADMIN.email, ADMIN.password, `10.11.0.${i}`)),
  )
  const statuses = answers.map((a) => a.statusCode)
  const busy = answers.filter((a) => a.statusCode === 503)
  t.ok(busy.length > 0, `${busy.length} of 50 were told to come back (${statuses.filter((s) => s === 200).length} got in)`)
  t.ok(
    statuses.every((s) => s === 200 || s === 503),
    'each logged in or told to come back, nothing else',
  )
  for (const answer of busy) {
    t.match(answer.json(), { code: 'PASSWORD_HASHING_BUSY' })
    t.ok(Number(answer.headers['retry-after']) >= 1)
  }
  t.equal(
    (await loginWith(api, ADMIN.email, ADMIN.password, '10.11.1.1')).statusCode,
    200,
    'and a login after the rush is served',
  )
  t.equal((await loginWith(api, ADMIN.email, ADMIN.password, '10.11.0.1')).statusCode, 200, 'a 503 counted as no failure')
})
