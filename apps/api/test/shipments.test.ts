import t from 'tap'
import { buildTestApi, loginCookie, userCookie } from './support.js'

const address = { name: 'Ada', street: 'Main 1', city: 'Linz', postalCode: '4020', country: 'AT' }

t.test('from shipment request to shipped, through the API', async (t) => {
  const { app } = await buildTestApi(t)
  const admin = await loginCookie(app)
  const operator = (await userCookie(app, admin, ['operator'])).cookie
  const agent = (await userCookie(app, admin, ['agent'])).cookie
  const call = (cookie: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) })

  const first = await call(operator, 'POST', '/shipment-requests', {
    orderId: 'o-1',
    items: [{ sku: 'TRK-DOG-4', quantity: 2 }],
    address,
  })
  t.equal(first.statusCode, 201)
  t.match(first.json(), { orderId: 'o-1', status: 'OPEN', errors: [] })
  const again = await call(operator, 'POST', '/shipment-requests', {
    orderId: 'o-1',
    items: [{ sku: 'OTHER', quantity: 9 }],
    address,
  })
  t.equal(again.statusCode, 200, 'posting an order again returns the stored request')
  t.equal(again.json().id, first.json().id)
  const faulty = await call(operator, 'POST', '/shipment-requests', {
    orderId: 'o-2',
    items: [{ sku: 'NOT-IN-CATALOGUE', quantity: 1 }],
    address: { name: 'Bo', street: 'Elm 2', city: 'Wien', country: 'Narnia' },
  })
  t.equal(faulty.statusCode, 201)
  t.same(
    faulty.json().errors.map((e: { field: string }) => e.field),
    ['items.0.sku', 'address.postalCode', 'address.country'],
  )
  t.equal((await call(operator, 'GET', '/shipment-requests?status=OPEN')).json().items.length, 2)

  t.same((await call(operator, 'POST', '/shipments/bulk')).json(), { created: 1 })
  t.same((await call(operator, 'POST', '/shipments/bulk')).json(), { created: 0 }, 'a second run creates nothing')
  const pending = (await call(agent, 'GET', '/shipments?status=PENDING')).json().items
  t.equal(pending.length, 1)
  const id = pending[0].id

  const unclaimed = await call(agent, 'POST', `/shipments/${id}/pack`)
  t.equal(unclaimed.statusCode, 409, 'packing needs a claim')
  t.match(unclaimed.json().message, /claim shipment .* before packing it/)
  t.equal((await call(agent, 'POST', `/shipments/${id}/claim`)).statusCode, 200)
  const packed = await call(agent, 'POST', `/shipments/${id}/pack`)
  t.equal(packed.statusCode, 200)
  t.equal(packed.json().status, 'PACKED')
  t.equal((await call(agent, 'POST', `/shipments/${id}/pack`)).statusCode, 409)
  const shipped = await call(agent, 'POST', `/shipments/${id}/ship`, { trackingNumber: 'AT-123456' })
  t.match(shipped.json(), { status: 'SHIPPED', trackingNumber: 'AT-123456' })
  t.equal((await call(agent, 'POST', `/shipments/${id}/ship`, { trackingNumber: 'AT-123456' })).statusCode, 409)
  t.equal((await call(agent, 'GET', `/shipments/${id}`)).json().status, 'SHIPPED')
  const missing = await call(agent, 'GET', '/shipments/11111111-1111-4111-8111-111111111111')
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { statusCode: 404, error: 'Not Found', message: /does not exist/ })
})

t.test('every response names its version and instance; OpenAPI is served', async (t) => {
  const { app } = await buildTestApi(t)
  for (const url of ['/health/live', '/nowhere', '/auth/me']) {
    const response = await app.inject({ method: 'GET', url })
    t.equal(response.headers['x-app-version'], '0.1.0', url)
    t.ok(response.headers['x-instance-id'], url)
  }
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
  t.match(doc.openapi, /^3\./)
  for (const path of ['/auth/login', '/shipments/{id}/pack', '/shipment-requests', '/api-tokens/{id}', '/health/ready']) {
    t.ok(doc.paths[path], `documents ${path}`)
  }
})
