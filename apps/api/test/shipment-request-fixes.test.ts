import { NOTIFY_SHOP_CANCELLED_JOB, openJobsQueue } from '@tms/jobs'
import { connectRedis, createRedis } from '@tms/redis'
import t, { type Test } from 'tap'
import { buildTestApi, loginCookie, userCookie } from './support.js'

const address = { name: 'Ada', street: 'Main 1', city: 'Linz', postalCode: '4020', country: 'AT' }

async function setup(t: Test) {
  const api = await buildTestApi(t)
  const admin = await loginCookie(api.app)
  const operator = (await userCookie(api.app, admin, ['operator'])).cookie
  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    api.app.inject({ method, url, headers: { cookie: operator }, ...(payload ? { payload } : {}) })
  const broken = async (orderId: string) =>
    (
      await call('POST', '/shipment-requests', {
        orderId,
        items: [{ sku: 'NOT-A-PRODUCT', quantity: 1 }],
        address: { name: 'Bo', street: 'Elm 2', city: 'Wien', country: 'AT' },
      })
    ).json<{ id: string; version: number; errors: Array<{ field: string }> }>()
  return { api, call, broken }
}

t.test('GET /shipment-requests?readiness=NEEDS_FIX lists only the ones to fix', async (t) => {
  const { call, broken } = await setup(t)
  await broken('o-broken')
  await call('POST', '/shipment-requests', { orderId: 'o-fine', items: [{ sku: 'TRK-DOG-4', quantity: 1 }], address })
  t.same(
    (await call('GET', '/shipment-requests?readiness=NEEDS_FIX')).json().items.map((r: { orderId: string }) => r.orderId),
    ['o-broken'],
  )
  t.same(
    (await call('GET', '/shipment-requests?readiness=READY')).json().items.map((r: { orderId: string }) => r.orderId),
    ['o-fine'],
  )
})

t.test('PATCH /shipment-requests/:id: fixed, it becomes READY and bulk creation ships it', async (t) => {
  const { call, broken } = await setup(t)
  const request = await broken('o-1')
  t.same(
    request.errors.map((e) => e.field),
    ['items.0.sku', 'address.postalCode'],
  )
  const half = await call('PATCH', `/shipment-requests/${request.id}`, {
    version: request.version,
    items: [{ sku: 'TRK-DOG-4', quantity: 2 }],
  })
  t.equal(half.statusCode, 200)
  t.match(half.json(), {
    readiness: 'NEEDS_FIX',
    errors: [{ field: 'address.postalCode' }],
    items: [{ sku: 'TRK-DOG-4', quantity: 2 }],
  })
  t.same((await call('POST', '/shipments/bulk')).json(), { created: 0 }, 'not while a problem is left')

  const stale = await call('PATCH', `/shipment-requests/${request.id}`, { version: request.version, address })
  t.equal(stale.statusCode, 409, 'an edit of the version before: refused, not lost')
  t.match(stale.json(), { code: 'CHANGED_MEANWHILE' })

  const fixed = await call('PATCH', `/shipment-requests/${request.id}`, { version: half.json().version, address })
  t.match(fixed.json(), { readiness: 'READY', errors: [] })
  t.same((await call('POST', '/shipments/bulk')).json(), { created: 1 })
  const done = await call('PATCH', `/shipment-requests/${request.id}`, { version: fixed.json().version + 1, address })
  t.match(done.json(), { code: 'WRONG_STATUS', message: /its shipment exists/ })
})

t.test('two operators fixing one request at once: one edit wins, the other is told', async (t) => {
  const { call, broken } = await setup(t)
  const request = await broken('o-race')
  const edits = await Promise.all(
    ['4020', '1010'].map((postalCode) =>
      call('PATCH', `/shipment-requests/${request.id}`, { version: request.version, address: { ...address, postalCode } }),
    ),
  )
  t.same(edits.map((e) => e.statusCode).sort(), [200, 409])
  const winner = edits.find((e) => e.statusCode === 200)!.json()
  t.equal((await call('GET', `/shipment-requests/${request.id}`)).json().address.postalCode, winner.address.postalCode)
})

t.test('POST /shipment-requests/:id/cancel: never shipped, and the shop is told by a job', async (t) => {
  const { api, call, broken } = await setup(t)
  const request = await broken('o-cancel')
  const cancelled = await call('POST', `/shipment-requests/${request.id}/cancel`, { reason: 'the customer withdrew' })
  t.match(cancelled.json(), { status: 'CANCELLED', cancellation: { reason: 'the customer withdrew', by: /@test\.local$/ } })
  const fix = await call('PATCH', `/shipment-requests/${request.id}`, { version: cancelled.json().version, address })
  t.match(fix.json(), { code: 'WRONG_STATUS', message: /cancelled/ })
  t.match((await call('POST', `/shipment-requests/${request.id}/cancel`, { reason: 'again' })).json(), { code: 'WRONG_STATUS' })
  t.same((await call('POST', '/shipments/bulk')).json(), { created: 0 })
  const redis = createRedis(api.env.REDIS_URL!, { connectionName: 'cancel-test', role: 'blocking' })
  t.teardown(() => redis.disconnect())
  await connectRedis(redis)
  const queue = openJobsQueue(redis, api.env.REDIS_KEY_PREFIX!)
  t.teardown(() => queue.close())
  const job = await queue.getJob(`${NOTIFY_SHOP_CANCELLED_JOB}-${request.id}`)
  t.match(job?.data, { requestId: request.id, orderId: 'o-cancel', reason: 'the customer withdrew' }, 'queued for a worker')
})
