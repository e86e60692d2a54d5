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
  t.match(revoked.json(), { code: 'INVALID_TOKEN', message: 'invalid or revoked API token' })
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
