import t from 'tap'
import { cookieFrom, http } from '../http-client.js'
import { ADMIN, isolatedEnv, startApiProcess } from '../support.js'

const TG5 = { modelNumber: 'TG5', hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE' }

t.test('two API processes: one device, 50 agents adding it to batches at once, exactly one batch holds it', async (t) => {
  const env = await isolatedEnv(t)
  const [a, b] = [(await startApiProcess(t, env, 'api-a')).url, (await startApiProcess(t, env, 'api-b')).url]
  const admin = cookieFrom(await http(a, 'POST', '/auth/login', { body: ADMIN }))
  await http(a, 'POST', '/devices', {
    cookie: admin,
    body: { devices: [{ deviceId: 'DEV-RACE-1', ...TG5, innerboxId: 'IB-0001', masterboxId: 'MB-0001' }] },
  })
  const agents: string[] = []
  for (let i = 0; i < 50; i++) {
    const email = `agent${i}@test.local`
    await http(a, 'POST', '/users', { cookie: admin, body: { email, password: 'agent password 1', roles: ['agent'] } })
    agents.push(cookieFrom(await http(i % 2 ? b : a, 'POST', '/auth/login', { body: { email, password: 'agent password 1' } })))
  }
  const batches: string[] = []
  for (let i = 0; i < 5; i++) {
    batches.push(
      (await http(a, 'POST', '/refurbishment-batches', { cookie: admin, body: { description: `race ${i}`, ...TG5 } })).json<{
        id: string
      }>().id,
    )
  }
  const answers = await Promise.all(
    agents.map((cookie, i) =>
      http(i % 2 ? b : a, 'POST', `/refurbishment-batches/${batches[i % 5]}/devices`, {
        cookie,
        body: { deviceIds: ['DEV-RACE-1'] },
      }),
    ),
  )
  t.ok(
    answers.every((r) => r.status === 200),
    'every attempt answered 200, with the device added or rejected',
  )
  const added = answers.filter((r) => r.json<{ added: number }>().added === 1)
  t.equal(added.length, 1, 'exactly one attempt added it')
  const holders = []
  for (const id of batches) {
    const batch = (await http(b, 'GET', `/refurbishment-batches/${id}`, { cookie: admin })).json<{
      batch: { deviceCount: number }
    }>()
    if (batch.batch.deviceCount > 0) holders.push(id)
  }
  t.equal(holders.length, 1, 'exactly one batch holds it, and counts it')
  const device = (await http(a, 'GET', '/devices/DEV-RACE-1', { cookie: admin })).json<{ batchId: string }>()
  t.same([device.batchId], holders, 'the device names that batch')
})

t.test('two API processes: a disabled user is logged out on both with the next request', async (t) => {
  const env = await isolatedEnv(t)
  const [a, b] = [(await startApiProcess(t, env, 'api-a')).url, (await startApiProcess(t, env, 'api-b')).url]
  const admin = cookieFrom(await http(a, 'POST', '/auth/login', { body: ADMIN }))
  const created = await http(a, 'POST', '/users', {
    cookie: admin,
    body: { email: 'ada@test.local', password: 'agent password 1', roles: ['agent'] },
  })
  const ada = created.json<{ id: string }>().id
  const onA = cookieFrom(
    await http(a, 'POST', '/auth/login', { body: { email: 'ada@test.local', password: 'agent password 1' } }),
  )
  const onB = cookieFrom(
    await http(b, 'POST', '/auth/login', { body: { email: 'ada@test.local', password: 'agent password 1' } }),
  )
  for (const [url, cookie] of [
    [a, onA],
    [b, onB],
    [a, onB],
  ] as const) {
    t.equal((await http(url, 'GET', '/auth/me', { cookie })).status, 200)
  }
  t.equal((await http(b, 'PATCH', `/users/${ada}`, { cookie: admin, body: { disabled: true } })).status, 200, 'disabled on B')
  for (const [name, url, cookie] of [
    ['A', a, onA],
    ['B', b, onB],
    ['A', a, onB],
    ['B', b, onA],
  ] as const) {
    t.equal((await http(url, 'GET', '/auth/me', { cookie })).status, 401, `401 on ${name} with the first request after`)
  }
})

t.test('two API processes: the only two admins demote each other at once, round after round: one admin is left', async (t) => {
  const env = await isolatedEnv(t)
  const [a, b] = [(await startApiProcess(t, env, 'api-a')).url, (await startApiProcess(t, env, 'api-b')).url]
  let survivor = {
    id: '00000000-0000-4000-8000-000000000001',
    cookie: cookieFrom(await http(a, 'POST', '/auth/login', { body: ADMIN })),
  }
  for (let round = 1; round <= 5; round++) {
    const email = `admin${round}@test.local`
    const password = 'a second admin, long'
    const created = await http(a, 'POST', '/users', { cookie: survivor.cookie, body: { email, password, roles: ['admin'] } })
    const other = {
      id: created.json<{ id: string }>().id,
      cookie: cookieFrom(await http(b, 'POST', '/auth/login', { body: { email, password } })),
    }
    const [first, second] = await Promise.all([
      http(a, 'PATCH', `/users/${other.id}`, { cookie: survivor.cookie, body: { roles: ['agent'] } }),
      http(b, 'PATCH', `/users/${survivor.id}`, { cookie: other.cookie, body: { roles: ['agent'] } }),
    ])
    t.same(
      [first.status, second.status].sort(),
      [200, 409],
      `round ${round}: one demotion went through (${first.status}, ${second.status})`,
    )
    survivor = first.status === 200 ? survivor : other
    const users = (await http(a, 'GET', '/users', { cookie: survivor.cookie })).json<{
      items: Array<{ roles: string[]; disabled: boolean }>
    }>()
    t.equal(users.items.filter((u) => u.roles.includes('admin') && !u.disabled).length, 1, `round ${round}: one enabled admin`)
  }
})
