import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { buildTestApi, isolatedEnv, loginCookie } from './support.js'
import { sessionIdOf } from './session-helpers.js'

const PASSWORD = 'a long enough password'

async function setup(t: Test, env?: Record<string, string>) {
  const api = await buildTestApi(t, env ? await isolatedEnv(t, env) : undefined)
  const admin = await loginCookie(api.app)
  const call = (cookie: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    api.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) })
  const user = async (email: string, roles = ['agent']) => {
    const created = (await call(admin, 'POST', '/users', { email, password: PASSWORD, roles })).json<{ id: string }>()
    return { id: created.id, email }
  }
  const login = (email: string, password = PASSWORD) => loginCookie(api.app, email, password)
  const me = async (cookie: string) => call(cookie, 'GET', '/auth/me')
  return { api, admin, call, user, login, me }
}

t.test('GET /users: the admin sees every user, with roles and whether disabled', async (t) => {
  const { call, admin, user } = await setup(t)
  await user('ada@test.local', ['agent'])
  await user('pat@test.local', ['partner'])
  const listed = (await call(admin, 'GET', '/users')).json().items
  t.match(listed, [
    { email: 'admin@test.local', roles: ['admin'], disabled: false },
    { email: 'ada@test.local', roles: ['agent'], disabled: false },
    { email: 'pat@test.local', roles: ['partner'], disabled: false },
  ])
})

t.test('PATCH /users/:id disabled: every session ends at once, and no new login', async (t) => {
  const { call, admin, user, login, me } = await setup(t)
  const ada = await user('ada@test.local')
  const [desk, phone] = [await login(ada.email), await login(ada.email)]
  t.equal((await me(desk)).statusCode, 200)
  const disabled = await call(admin, 'PATCH', `/users/${ada.id}`, { disabled: true })
  t.match(disabled.json(), { disabled: true })
  t.equal((await me(desk)).statusCode, 401, 'the next request with the old cookie')
  t.equal((await me(phone)).statusCode, 401, 'on every device')
  const again = await call('', 'POST', '/auth/login', { email: ada.email, password: PASSWORD })
  t.equal(again.statusCode, 403)
  t.match(again.json(), { code: 'ACCOUNT_DISABLED' })
  const wrong = await call('', 'POST', '/auth/login', { email: ada.email, password: 'not the password' })
  t.match(wrong.json(), { code: 'WRONG_CREDENTIALS' }, 'a wrong password tells nothing of the account')
  await call(admin, 'PATCH', `/users/${ada.id}`, { disabled: false })
  t.equal((await me(await login(ada.email))).statusCode, 200, 'enabled again, she logs in')
})

t.test('PATCH /users/:id roles: the old sessions end; the next login has the new roles', async (t) => {
  const { call, admin, user, login, me } = await setup(t)
  const ada = await user('ada@test.local', ['agent'])
  const cookie = await login(ada.email)
  t.equal((await call(cookie, 'POST', '/shipments/bulk')).statusCode, 403)
  t.match((await call(admin, 'PATCH', `/users/${ada.id}`, { roles: ['operator'] })).json(), { roles: ['operator'] })
  t.equal((await me(cookie)).statusCode, 401)
  const promoted = await login(ada.email)
  t.same((await me(promoted)).json().user.roles, ['operator'])
  t.equal((await call(promoted, 'POST', '/shipments/bulk')).statusCode, 200)
})

t.test('an admin cannot lock every admin out', async (t) => {
  const { call, admin, me } = await setup(t)
  const self = (await me(admin)).json().user.id
  for (const change of [{ disabled: true }, { roles: ['operator'] }]) {
    const refused = await call(admin, 'PATCH', `/users/${self}`, change)
    t.equal(refused.statusCode, 409, JSON.stringify(change))
    t.match(refused.json(), { code: 'SELF_LOCKOUT' })
  }
  t.equal((await call(admin, 'GET', '/users')).statusCode, 200, 'still an admin')
})

t.test('passwords: an admin resets one, a user changes their own; sessions end either way', async (t) => {
  const { call, admin, user, login, me } = await setup(t)
  const ada = await user('ada@test.local')
  const first = await login(ada.email)
  t.equal((await call(admin, 'POST', `/users/${ada.id}/password`, { password: 'a new long password' })).statusCode, 204)
  t.equal((await me(first)).statusCode, 401)
  const second = await login(ada.email, 'a new long password')
  const wrong = await call(second, 'POST', '/auth/me/password', {
    currentPassword: 'guess',
    newPassword: 'another long password',
  })
  t.equal(wrong.statusCode, 403)
  t.match(wrong.json(), { code: 'WRONG_PASSWORD' })
  const short = await call(second, 'POST', '/auth/me/password', { currentPassword: 'a new long password', newPassword: 'short' })
  t.equal(short.statusCode, 400)
  t.equal(
    (
      await call(second, 'POST', '/auth/me/password', {
        currentPassword: 'a new long password',
        newPassword: 'my own long password',
      })
    ).statusCode,
    204,
  )
  t.equal((await me(second)).statusCode, 401, 'log in again')
  t.equal((await me(await login(ada.email, 'my own long password'))).statusCode, 200)
})

t.test('GET and DELETE /auth/me/sessions: a user sees their sessions and logs one out', async (t) => {
  const { call, user, login, me } = await setup(t)
  const ada = await user('ada@test.local')
  const desk = await login(ada.email)
  const left = await login(ada.email)
  const listed = (await call(desk, 'GET', '/auth/me/sessions')).json().items
  t.equal(listed.length, 2)
  t.match(
    listed.find((s: { current: boolean }) => s.current),
    { startedAt: String, client: { ip: '127.0.0.1' } },
  )
  const other = listed.find((s: { current: boolean }) => !s.current)
  t.notMatch(JSON.stringify(listed), decodeURIComponent(left.split('=')[1]!).split('.')[0]!, 'no session id is shown')
  t.equal((await call(desk, 'DELETE', `/auth/me/sessions/${other.id}`)).statusCode, 204)
  t.equal((await me(left)).statusCode, 401, 'the other one is logged out')
  t.equal((await me(desk)).statusCode, 200, 'this one is not')
  t.equal((await call(desk, 'DELETE', `/auth/me/sessions/${other.id}`)).statusCode, 404)
})

t.test('SESSION_MAX_AGE_SECONDS: a session ends that long after login, however active', async (t) => {
  // 4 s of lifetime: used within its first second, checked again well past it (generous slack
  // both ways on a busy machine).
  const { login, me } = await setup(t, { SESSION_MAX_AGE_SECONDS: '4', SESSION_TTL_SECONDS: '60' })
  const cookie = await login('admin@test.local', 'admin password for tests')
  const loggedInAt = Date.now()
  for (let i = 0; i < 3; i++) {
    t.equal((await me(cookie)).statusCode, 200, 'active: each request slides the idle timeout')
    await sleep(300)
  }
  await sleep(Math.max(0, loggedInAt + 6000 - Date.now()))
  t.equal((await me(cookie)).statusCode, 401, 'past the absolute lifetime: gone')
})

t.test('a session without its start has no absolute end, so it counts as ended', async (t) => {
  const api = await buildTestApi(t)
  const cookie = await loginCookie(api.app)
  const key = api.keyspace.key('sess', sessionIdOf(cookie))
  const stored = JSON.parse((await api.redis.get(key))!) as Record<string, string>
  t.ok(stored.startedAt, 'the login wrote its start with the session, in its first write')
  delete stored.startedAt
  await api.redis.set(key, JSON.stringify(stored), 'EX', 60)
  const me = await api.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })
  t.equal(me.statusCode, 401, 'it would otherwise slide past SESSION_MAX_AGE_SECONDS forever')
})
