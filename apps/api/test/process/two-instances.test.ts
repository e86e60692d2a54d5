import t from 'tap'
import { cookieFrom, http } from '../http-client.js'
import { ADMIN, isolatedEnv, startApiProcess } from '../support.js'

t.test('two API processes share sessions; sessions survive restarting both', async (t) => {
  const env = await isolatedEnv(t)
  const a = await startApiProcess(t, env, 'api-a')
  const b = await startApiProcess(t, env, 'api-b')

  const login = await http(a.url, 'POST', '/auth/login', { body: ADMIN })
  t.equal(login.status, 200)
  const cookie = cookieFrom(login)
  const onB = await http(b.url, 'GET', '/auth/me', { cookie })
  t.equal(onB.status, 200, 'logged in on A, known on B')
  t.equal(onB.json<{ user: { email: string } }>().user.email, ADMIN.email)
  t.not(onB.headers['x-instance-id'], login.headers['x-instance-id'], 'really two instances')

  const second = cookieFrom(await http(b.url, 'POST', '/auth/login', { body: ADMIN }))
  t.equal((await http(b.url, 'POST', '/auth/logout', { cookie: second })).status, 204, 'log out on B')
  t.equal((await http(a.url, 'GET', '/auth/me', { cookie: second })).status, 401, 'A no longer knows it')

  a.child.signal('SIGKILL')
  b.child.signal('SIGKILL')
  await Promise.all([a.child.exited, b.child.exited])
  const c = await startApiProcess(t, env, 'api-c')
  const d = await startApiProcess(t, env, 'api-d')
  t.equal((await http(c.url, 'GET', '/auth/me', { cookie })).status, 200, 'the session from before the restart still works')
  t.equal((await http(d.url, 'GET', '/auth/me', { cookie })).status, 200)
})

t.test('with the demonstration switch on, each process keeps its own sessions (what the rehearsal compares)', async (t) => {
  const env = { ...(await isolatedEnv(t)), TMS_DEMO_IN_PROCESS_STATE: 'true' }
  const a = await startApiProcess(t, env, 'api-a')
  const b = await startApiProcess(t, env, 'api-b')
  const cookie = cookieFrom(await http(a.url, 'POST', '/auth/login', { body: ADMIN }))
  t.equal((await http(a.url, 'GET', '/auth/me', { cookie })).status, 200, 'known where it logged in')
  t.equal((await http(b.url, 'GET', '/auth/me', { cookie })).status, 401, 'unknown to the other process')
})
