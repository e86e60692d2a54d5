import t from 'tap'
import { ADMIN, buildTestApi, isolatedEnv, loginCookie, userCookie } from './support.js'

const address = { name: 'Ada', street: 'Main 1', city: 'Linz', postalCode: '4020', country: 'AT' }
const shipmentRequest = (orderId: string) => ({ orderId, items: [{ sku: 'TRK-1', quantity: 1 }], address })

t.test('login, me, logout', async (t) => {
  const { app } = await buildTestApi(t)
  const wrong = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: ADMIN.email, password: 'nope' } })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().message, 'wrong email or password')
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
  t.equal(denied.json().message, 'this needs the operator role')
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
  t.equal(revoked.json().message, 'invalid or revoked API token')
  t.equal(
    (await app.inject({ method: 'DELETE', url: '/api-tokens/11111111-1111-4111-8111-111111111111', headers: { cookie: admin } }))
      .statusCode,
    404,
  )
})

t.test('failed logins are limited per account and per address, across instances', async (t) => {
  const env = await isolatedEnv(t, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_IP: '6' })
  const one = await buildTestApi(t, env)
  const two = await buildTestApi(t, env)
  const attempt = (api: typeof one, email: string, password: string, ip = '10.0.0.1') =>
    api.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password }, remoteAddress: ip })

  t.equal((await attempt(one, ADMIN.email, 'wrong-1')).statusCode, 401)
  t.equal((await attempt(two, ADMIN.email, 'wrong-2')).statusCode, 401)
  t.equal((await attempt(one, ADMIN.email, 'wrong-3')).statusCode, 401)
  const blocked = await attempt(two, ADMIN.email, ADMIN.password)
  t.equal(blocked.statusCode, 429, 'the 4th attempt is refused on the other instance, even with the right password')
  t.ok(Number(blocked.headers['retry-after']) > 0)
  t.match(blocked.json().message, /too many failed logins/)

  for (let i = 0; i < 3; i++) await attempt(one, `nobody${i}@test.local`, 'x')
  t.equal((await attempt(two, 'someone@test.local', 'x')).statusCode, 429, 'the address is blocked after 6 failures')
  t.equal((await attempt(two, 'someone@test.local', 'x', '10.0.0.2')).statusCode, 401, 'another address is not')
})

t.test('a successful login clears the account counter', async (t) => {
  const { app } = await buildTestApi(t, await isolatedEnv(t, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' }))
  const attempt = (password: string) =>
    app.inject({ method: 'POST', url: '/auth/login', payload: { email: ADMIN.email, password } })
  await attempt('wrong')
  await attempt('wrong')
  t.equal((await attempt(ADMIN.password)).statusCode, 200)
  await attempt('wrong')
  await attempt('wrong')
  t.equal((await attempt(ADMIN.password)).statusCode, 200)
})
