import { devices as deviceRecords, refurbishmentBatches } from '@tms/warehouse'
import t, { type Test } from 'tap'
import { buildTestApi, loginCookie, userCookie } from './support.js'

const TG5 = { modelNumber: 'TG5', hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE' }
const device = (deviceId: string, masterboxId = 'MB-0001', model = TG5) => ({
  deviceId,
  ...model,
  innerboxId: `IB-${deviceId.slice(-4)}`,
  masterboxId,
})

async function setup(t: Test) {
  const api = await buildTestApi(t)
  const admin = await loginCookie(api.app)
  const operator = (await userCookie(api.app, admin, ['operator'])).cookie
  const ada = await userCookie(api.app, admin, ['agent'])
  const bob = await userCookie(api.app, admin, ['agent'])
  const partner = (await userCookie(api.app, admin, ['partner'])).cookie
  const call = (cookie: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    api.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) })
  const batch = async (description = 'returns of November') =>
    (await call(operator, 'POST', '/refurbishment-batches', { description, ...TG5 })).json<{ id: string; number: number }>()
  return { api, admin, operator, ada: ada.cookie, adaEmail: ada.email, bob: bob.cookie, partner, call, batch }
}

t.test('POST /refurbishment-batches: numbered #1, #2, … without gaps, even created at once', async (t) => {
  const { call, operator, ada, batch } = await setup(t)
  const first = await call(operator, 'POST', '/refurbishment-batches', { description: 'returns', ...TG5 })
  t.equal(first.statusCode, 201)
  t.match(first.json(), { number: 1, status: 'OPEN', deviceCount: 0, ...TG5, createdBy: /@test\.local$/ })
  const numbers = await Promise.all(Array.from({ length: 10 }, () => batch()))
  t.same(
    numbers.map((b) => b.number).sort((a, b) => a - b),
    [2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    'ten at once: each its own number, none skipped',
  )
  const unknown = await call(operator, 'POST', '/refurbishment-batches', {
    description: 'x',
    modelNumber: 'TX9',
    hardwareEdition: 'RED',
  })
  t.equal(unknown.statusCode, 422)
  t.match(unknown.json(), { code: 'UNKNOWN_MODEL', message: /not in the catalogue/ })
  t.equal(
    (await call(ada, 'POST', '/refurbishment-batches', { description: 'x', ...TG5 })).statusCode,
    403,
    'operators make batches',
  )
  const listed = (await call(ada, 'GET', '/refurbishment-batches?limit=5')).json()
  t.same(
    listed.items.map((b: { number: number }) => b.number),
    [11, 10, 9, 8, 7],
    'newest first',
  )
  t.ok(listed.nextCursor)
})

t.test('POST /refurbishment-batches/:id/devices: by id or masterbox; each rejection says why', async (t) => {
  const { call, partner, ada, batch } = await setup(t)
  await call(partner, 'POST', '/devices', {
    devices: [
      ...['DEV-0001', 'DEV-0002', 'DEV-0003'].map((id) => device(id, 'MB-0001')),
      ...['DEV-0004', 'DEV-0005'].map((id) => device(id, 'MB-0002')),
      device('DEV-CAT1', 'MB-0003', { modelNumber: 'TC4', hardwareEdition: 'WHITE-WORLDWIDE' }),
    ],
  })
  const b1 = await batch()
  const b2 = await batch()
  const added = await call(ada, 'POST', `/refurbishment-batches/${b1.id}/devices`, {
    deviceIds: ['DEV-0001', 'DEV-CAT1', 'DEV-NONE'],
  })
  t.same(added.json(), {
    added: 1,
    rejected: [
      { deviceId: 'DEV-CAT1', message: 'is a TC4 WHITE-WORLDWIDE; the batch takes TG5 BROWN-TEXTURE-WORLDWIDE' },
      { deviceId: 'DEV-NONE', message: 'unknown device: no partner registered it' },
    ],
  })
  const box = await call(ada, 'POST', `/refurbishment-batches/${b1.id}/devices`, { masterboxId: 'MB-0001' })
  t.same(box.json(), { added: 2, rejected: [] }, 'the rest of the masterbox; the one already here is no rejection')
  const taken = await call(ada, 'POST', `/refurbishment-batches/${b2.id}/devices`, { deviceIds: ['DEV-0002', 'DEV-0004'] })
  t.same(taken.json(), { added: 1, rejected: [{ deviceId: 'DEV-0002', message: `already in batch #${b1.number}` }] })
  t.match((await call(ada, 'GET', `/refurbishment-batches/${b1.id}`)).json(), {
    batch: { deviceCount: 3 },
    devices: { total: 3, items: [{ deviceId: /^DEV-000[123]$/, masterboxId: 'MB-0001' }, {}, {}] },
  })
  t.match((await call(ada, 'GET', '/devices/DEV-0002')).json(), { status: 'IN_BATCH', batchId: b1.id })

  const removed = await call(ada, 'DELETE', `/refurbishment-batches/${b1.id}/devices/DEV-0002`)
  t.equal(removed.statusCode, 204)
  t.match((await call(ada, 'GET', '/devices/DEV-0002')).json(), { status: 'IN_STOCK', batchId: null }, 'in stock again')
  t.equal((await call(ada, 'DELETE', `/refurbishment-batches/${b1.id}/devices/DEV-0002`)).statusCode, 404, 'not in it any more')
  const none = await call(ada, 'POST', `/refurbishment-batches/${b1.id}/devices`, { masterboxId: 'MB-9999' })
  t.same(none.json().rejected, [{ deviceId: 'MB-9999', message: 'no device is registered in masterbox MB-9999' }])
})

t.test('GET /refurbishment-batches/:id/devices: filter and pages', async (t) => {
  const { call, partner, ada, batch } = await setup(t)
  const ids = Array.from({ length: 23 }, (_, i) => `DEV-${String(i).padStart(4, '0')}`)
  await call(partner, 'POST', '/devices', { devices: ids.map((id, i) => device(id, i < 20 ? 'MB-0001' : 'MB-0777')) })
  const b = await batch()
  await call(ada, 'POST', `/refurbishment-batches/${b.id}/devices`, { deviceIds: ids })
  const first = (await call(ada, 'GET', `/refurbishment-batches/${b.id}/devices?limit=10`)).json()
  t.equal(first.items.length, 10)
  t.equal(first.total, 23)
  const second = (await call(ada, 'GET', `/refurbishment-batches/${b.id}/devices?limit=10&cursor=${first.nextCursor}`)).json()
  const third = (await call(ada, 'GET', `/refurbishment-batches/${b.id}/devices?limit=10&cursor=${second.nextCursor}`)).json()
  t.equal(third.items.length, 3)
  t.equal(third.nextCursor, null)
  t.equal(new Set([...first.items, ...second.items, ...third.items].map((d: { deviceId: string }) => d.deviceId)).size, 23)
  t.same((await call(ada, 'GET', `/refurbishment-batches/${b.id}/devices?q=mb-0777`)).json().total, 3, 'by masterbox, any case')
  t.same((await call(ada, 'GET', `/refurbishment-batches/${b.id}/devices?q=DEV-0019`)).json().total, 1, 'by device id')
})

t.test('claim, pack and ship: the holder only; devices shipped with the batch', async (t) => {
  const { api, call, partner, ada, adaEmail, bob, operator, batch } = await setup(t)
  await call(partner, 'POST', '/devices', { devices: ['DEV-0001', 'DEV-0002'].map((id) => device(id)) })
  const b = await batch()
  t.equal((await call(ada, 'POST', `/refurbishment-batches/${b.id}/pack`)).statusCode, 409, 'an empty batch does not pack')
  t.match((await call(ada, 'POST', `/refurbishment-batches/${b.id}/pack`)).json(), { code: 'BATCH_EMPTY' })
  t.match((await call(ada, 'POST', `/refurbishment-batches/${b.id}/claim`)).json(), { batchId: b.id, claimedBy: adaEmail })
  await call(ada, 'POST', `/refurbishment-batches/${b.id}/devices`, { deviceIds: ['DEV-0001', 'DEV-0002'] })
  for (const [method, url, payload] of [
    ['POST', `/refurbishment-batches/${b.id}/devices`, { deviceIds: ['DEV-0001'] }],
    ['POST', `/refurbishment-batches/${b.id}/pack`, undefined],
    ['DELETE', `/refurbishment-batches/${b.id}/devices/DEV-0001`, undefined],
  ] as const) {
    const refused = await call(bob, method, url, payload)
    t.equal(refused.statusCode, 409, `${method} ${url.split('/').slice(3).join('/')} by another agent: 409`)
    t.match(refused.json(), {
      code: 'CLAIMED_BY_ANOTHER',
      message: new RegExp(`is held by ${adaEmail.replace('.', '\\.')} until`),
    })
  }
  const packed = await call(ada, 'POST', `/refurbishment-batches/${b.id}/pack`)
  t.match(packed.json(), { status: 'PACKED', deviceCount: 2, packedBy: adaEmail })
  t.ok(
    (await api.redis.exists(`${api.keyspace.prefix}lock:refurbishment-batch:${b.id}:claim`)) === 1,
    "ada's own claim stays hers",
  )
  t.match((await call(ada, 'POST', `/refurbishment-batches/${b.id}/pack`)).json(), { code: 'WRONG_STATUS' })
  t.match((await call(ada, 'POST', `/refurbishment-batches/${b.id}/devices`, { deviceIds: ['DEV-0001'] })).json(), {
    code: 'WRONG_STATUS',
    message: /is PACKED, not OPEN/,
  })
  t.equal((await call(operator, 'PATCH', `/refurbishment-batches/${b.id}`, { description: 'relabelled' })).statusCode, 200)

  const notTheirs = await call(bob, 'POST', `/refurbishment-batches/${b.id}/ship`, { trackingNumber: 'AT-REF-0001' })
  t.equal(notTheirs.statusCode, 403, 'another agent does not ship what ada packed')
  t.match(notTheirs.json(), { code: 'PACKED_BY_ANOTHER', message: new RegExp(`packed by ${adaEmail.replace('.', '\\.')}`) })
  const shipped = await call(ada, 'POST', `/refurbishment-batches/${b.id}/ship`, { trackingNumber: 'AT-REF-0001' })
  t.match(shipped.json(), { status: 'SHIPPED', trackingNumber: 'AT-REF-0001', description: 'relabelled' })
  for (const id of ['DEV-0001', 'DEV-0002']) {
    t.match((await call(ada, 'GET', `/devices/${id}`)).json(), { status: 'SHIPPED', trackingNumber: 'AT-REF-0001' })
  }
  t.match((await call(ada, 'GET', `/refurbishment-batches/${b.id}/devices`)).json().items, [
    { trackingNumber: 'AT-REF-0001' },
    {},
  ])
  t.match((await call(operator, 'PATCH', `/refurbishment-batches/${b.id}`, { description: 'late' })).json(), {
    code: 'WRONG_STATUS',
  })
  t.match((await call(ada, 'POST', `/refurbishment-batches/${b.id}/ship`, { trackingNumber: 'AT-REF-0002' })).json(), {
    code: 'WRONG_STATUS',
  })
})

t.test('a ship cut short between the batch and its devices is completed, never half-done', async (t) => {
  const { api, call, partner, ada, batch } = await setup(t)
  await call(partner, 'POST', '/devices', { devices: ['DEV-0001', 'DEV-0002'].map((id) => device(id)) })
  const b = await batch()
  await call(ada, 'POST', `/refurbishment-batches/${b.id}/devices`, { masterboxId: 'MB-0001' })
  await call(ada, 'POST', `/refurbishment-batches/${b.id}/pack`)
  // What a process that died after the first step of ship leaves: SHIPPING, devices IN_BATCH.
  const stored = (await api.storage.get(refurbishmentBatches, b.id))!
  await api.storage.update(refurbishmentBatches, stored, { status: 'SHIPPING', trackingNumber: 'AT-CUT-0001' })
  t.match((await call(ada, 'GET', `/refurbishment-batches/${b.id}`)).json().batch, { status: 'SHIPPING' })
  t.match((await call(ada, 'POST', `/refurbishment-batches/${b.id}/ship`, { trackingNumber: 'AT-OTHER-01' })).json(), {
    code: 'WRONG_STATUS',
    message: /being shipped as AT-CUT-0001/,
  })
  const retried = await call(ada, 'POST', `/refurbishment-batches/${b.id}/ship`, { trackingNumber: 'AT-CUT-0001' })
  t.match(retried.json(), { status: 'SHIPPED', trackingNumber: 'AT-CUT-0001' }, 'the same ship again completes it')
  const devices = await api.storage.find(deviceRecords, { where: { batchId: b.id } })
  t.same(
    devices.map((d) => d.data.status),
    ['SHIPPED', 'SHIPPED'],
  )
})

t.test('a masterbox id two partners used: a 409 listing them, then the scan that names one adds only its devices', async (t) => {
  const { api, admin, call, ada, batch } = await setup(t)
  const partnerA = await userCookie(api.app, admin, ['partner'])
  const partnerB = await userCookie(api.app, admin, ['partner'])
  await call(partnerA.cookie, 'POST', '/devices', { devices: [device('DEV-A001', 'MB-SAME'), device('DEV-A002', 'MB-SAME')] })
  await call(partnerB.cookie, 'POST', '/devices', { devices: [device('DEV-B001', 'MB-SAME')] })
  const b = await batch()
  const ambiguous = await call(ada, 'POST', `/refurbishment-batches/${b.id}/devices`, { masterboxId: 'MB-SAME' })
  t.equal(ambiguous.statusCode, 409)
  const body = ambiguous.json<{ code: string; message: string; details: Array<{ field: string; message: string }> }>()
  t.equal(body.code, 'AMBIGUOUS_MASTERBOX')
  t.match(
    body.message,
    new RegExp(`${partnerA.email.replace('.', '\\.')} \\(2\\), ${partnerB.email.replace('.', '\\.')} \\(1\\)`),
  )
  t.equal(body.details.length, 2, 'each partner, to choose from')
  const chosen = body.details.find((d) => d.message.includes(partnerB.email))!.message.split(':')[0]!
  const added = await call(ada, 'POST', `/refurbishment-batches/${b.id}/devices`, {
    masterboxId: 'MB-SAME',
    registeredBy: chosen,
  })
  t.same(added.json(), { added: 1, rejected: [] })
  t.same(
    (await call(ada, 'GET', `/refurbishment-batches/${b.id}/devices`)).json().items.map((d: { deviceId: string }) => d.deviceId),
    ['DEV-B001'],
  )
  const other = (await call(partnerB.cookie, 'POST', '/devices', { devices: [device('DEV-A001', 'MB-B')] })).json()
  t.same(other.rejected, [{ index: 0, deviceId: 'DEV-A001', message: 'this device id is registered by another partner' }])
})
