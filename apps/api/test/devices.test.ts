import t, { type Test } from 'tap'
import { buildTestApi, loginCookie, userCookie } from './support.js'

const device = (deviceId: string, overrides: Record<string, string> = {}) => ({
  deviceId,
  modelNumber: 'TG5',
  hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE',
  innerboxId: 'IB-0001',
  masterboxId: 'MB-0001',
  ...overrides,
})

async function setup(t: Test) {
  const api = await buildTestApi(t)
  const admin = await loginCookie(api.app)
  const partner = (await userCookie(api.app, admin, ['partner'])).cookie
  const otherPartner = (await userCookie(api.app, admin, ['partner'])).cookie
  const agent = (await userCookie(api.app, admin, ['agent'])).cookie
  const call = (cookie: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    api.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) })
  return { api, admin, partner, otherPartner, agent, call }
}

t.test('POST /devices: registers, and is idempotent per device id', async (t) => {
  const { call, partner } = await setup(t)
  const first = await call(partner, 'POST', '/devices', { devices: [device('DEV-0001'), device('DEV-0002')] })
  t.equal(first.statusCode, 200)
  t.same(first.json(), { registered: 2, alreadyKnown: 0, rejected: [] })

  const again = await call(partner, 'POST', '/devices', {
    devices: [
      device('DEV-0001'),
      device('DEV-0002', { masterboxId: 'MB-9999' }),
      device('DEV-0003'),
      device('DEV-0004', { modelNumber: 'TX9' }),
      device('DEV-0003', { innerboxId: 'IB-0002' }),
    ],
  })
  t.same(again.json(), {
    registered: 1,
    alreadyKnown: 1,
    rejected: [
      { index: 1, deviceId: 'DEV-0002', message: 'already registered with another masterboxId (MB-0001)' },
      { index: 3, deviceId: 'DEV-0004', message: 'model TX9 in edition BROWN-TEXTURE-WORLDWIDE is not in the catalogue' },
      { index: 4, deviceId: 'DEV-0003', message: 'innerboxId differs from device #2 of this request' },
    ],
  })
})

t.test('POST /devices: five parallel registrations of one masterbox register each device once', async (t) => {
  const { call, partner } = await setup(t)
  const devices = Array.from({ length: 50 }, (_, i) => device(`DEV-P${String(i).padStart(3, '0')}`))
  const answers = (await Promise.all(Array.from({ length: 5 }, () => call(partner, 'POST', '/devices', { devices })))).map(
    (r) => r.json() as { registered: number; alreadyKnown: number; rejected: unknown[] },
  )
  t.equal(
    answers.reduce((sum, a) => sum + a.registered, 0),
    50,
    'each device registered by exactly one of them',
  )
  t.equal(
    answers.reduce((sum, a) => sum + a.alreadyKnown, 0),
    200,
    'and already known to the others',
  )
  t.ok(answers.every((a) => a.rejected.length === 0))
})

t.test('POST /devices: partners and admins only', async (t) => {
  const { call, agent, admin } = await setup(t)
  const refused = await call(agent, 'POST', '/devices', { devices: [device('DEV-0001')] })
  t.equal(refused.statusCode, 403)
  t.match(refused.json(), { code: 'ROLE_REQUIRED' })
  t.equal((await call(admin, 'POST', '/devices', { devices: [device('DEV-0001')] })).statusCode, 200, 'an admin may')
})

t.test('POST /devices: 1000 at once, one call', async (t) => {
  const { call, partner } = await setup(t)
  const devices = Array.from({ length: 1000 }, (_, i) =>
    device(`DEV-${String(i).padStart(5, '0')}`, { masterboxId: `MB-${i % 10}000` }),
  )
  t.same((await call(partner, 'POST', '/devices', { devices })).json(), { registered: 1000, alreadyKnown: 0, rejected: [] })
  const tooMany = await call(partner, 'POST', '/devices', { devices: [...devices, device('DEV-X0001')] })
  t.equal(tooMany.statusCode, 400)
  t.match(tooMany.json().message, /body\.devices must NOT have more than 1000 items/)
})

t.test('GET /devices: filters, pages by cursor; a partner sees its own', async (t) => {
  const { call, partner, otherPartner, agent } = await setup(t)
  await call(partner, 'POST', '/devices', {
    devices: Array.from({ length: 12 }, (_, i) =>
      device(`DEV-A${String(i).padStart(3, '0')}`, { masterboxId: i < 8 ? 'MB-A' : 'MB-B' }),
    ),
  })
  await call(otherPartner, 'POST', '/devices', {
    devices: [device('DEV-OTHER', { modelNumber: 'TC4', hardwareEdition: 'WHITE-WORLDWIDE' })],
  })

  const seen: string[] = []
  let cursor: string | null = null
  do {
    const page = await call(agent, 'GET', `/devices?limit=5${cursor ? `&cursor=${cursor}` : ''}`)
    t.equal(page.statusCode, 200)
    seen.push(...page.json().items.map((d: { deviceId: string }) => d.deviceId))
    cursor = page.json().nextCursor
  } while (cursor)
  t.equal(seen.length, 13, 'an agent sees every device, in pages of 5')
  t.equal(new Set(seen).size, 13)

  const boxA = (await call(agent, 'GET', '/devices?masterboxId=MB-A&limit=50')).json()
  t.equal(boxA.items.length, 8)
  t.equal(boxA.nextCursor, null)
  t.equal((await call(agent, 'GET', '/devices?modelNumber=TC4')).json().items.length, 1)
  t.match((await call(agent, 'GET', '/devices?status=IN_STOCK&limit=1')).json().items, [{ status: 'IN_STOCK', batchId: null }])

  t.equal((await call(otherPartner, 'GET', '/devices?limit=50')).json().items.length, 1, 'the other partner sees its one')
  t.equal((await call(otherPartner, 'GET', '/devices/DEV-A000')).statusCode, 404, "and not the first partner's")
  t.match((await call(partner, 'GET', '/devices/DEV-A000')).json(), {
    deviceId: 'DEV-A000',
    masterboxId: 'MB-A',
    status: 'IN_STOCK',
  })
  const bad = await call(agent, 'GET', '/devices?cursor=bm9wZQ')
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'INVALID_CURSOR' })
  // The shape of a real cursor, with a time no calendar has: the database cannot cast it.
  const crafted = Buffer.from('["9999-99-99 99:99:99+00","x"]').toString('base64url')
  const impossible = await call(agent, 'GET', `/devices?cursor=${crafted}`)
  t.equal(impossible.statusCode, 400, 'a crafted cursor is a 400, not a 500')
  t.match(impossible.json(), { code: 'INVALID_CURSOR' })
})
