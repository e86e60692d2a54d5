import { setTimeout as sleep } from 'node:timers/promises'
import { startTcpProxy } from '@tms/testing'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildTestApi, isolatedEnv, loginCookie, userCookie } from './support.js'

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
  t.match(unclaimed.json(), { code: 'CLAIM_NEEDED', message: /claim shipment .* before packing it/ })
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
  t.match(missing.json(), { statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: /does not exist/ })
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

/** `count` pending shipments, made by the operator through the API. */
async function pendingShipments(app: FastifyInstance, operator: string, count: number): Promise<string[]> {
  for (let i = 0; i < count; i++) {
    await app.inject({
      method: 'POST',
      url: '/shipment-requests',
      headers: { cookie: operator },
      payload: { orderId: `o-${i}`, items: [{ sku: 'TRK-DOG-4', quantity: 1 }], address },
    })
  }
  await app.inject({ method: 'POST', url: '/shipments/bulk', headers: { cookie: operator } })
  const list = await app.inject({ method: 'GET', url: `/shipments?status=PENDING&limit=${count}`, headers: { cookie: operator } })
  return list.json<{ items: Array<{ id: string }> }>().items.map((s) => s.id)
}

t.test('POST /shipments/:id/ship: by the agent who packed it or an operator, nobody else', async (t) => {
  const { app } = await buildTestApi(t)
  const admin = await loginCookie(app)
  const operator = (await userCookie(app, admin, ['operator'])).cookie
  const [packer, other] = [(await userCookie(app, admin, ['agent'])).cookie, (await userCookie(app, admin, ['agent'])).cookie]
  const [mine, theirs] = (await pendingShipments(app, operator, 2)) as [string, string]
  for (const id of [mine, theirs]) {
    await app.inject({ method: 'POST', url: `/shipments/${id}/claim`, headers: { cookie: packer } })
    t.equal((await app.inject({ method: 'POST', url: `/shipments/${id}/pack`, headers: { cookie: packer } })).statusCode, 200)
  }
  const ship = (cookie: string, id: string) =>
    app.inject({
      method: 'POST',
      url: `/shipments/${id}/ship`,
      headers: { cookie },
      payload: { trackingNumber: `TRK-${id.slice(0, 8)}` },
    })
  const refused = await ship(other, mine)
  t.equal(refused.statusCode, 403, 'another agent may not ship it')
  t.match(refused.json(), { code: 'PACKED_BY_ANOTHER', message: /packed by someone else/ })
  t.equal((await ship(packer, mine)).statusCode, 200, 'the packer ships it')
  t.equal((await ship(operator, theirs)).statusCode, 200, 'an operator ships any')
})

t.test('POST /shipments/:id/claim: an agent holds at most MAX_CLAIMS_PER_AGENT', async (t) => {
  const { app } = await buildTestApi(t, await isolatedEnv(t, { MAX_CLAIMS_PER_AGENT: '2' }))
  const admin = await loginCookie(app)
  const agent = (await userCookie(app, admin, ['agent'])).cookie
  const ids = await pendingShipments(app, admin, 4)
  const claims = await Promise.all(
    ids.map((id) => app.inject({ method: 'POST', url: `/shipments/${id}/claim`, headers: { cookie: agent } })),
  )
  t.same(claims.map((c) => c.statusCode).sort(), [200, 200, 409, 409], 'two of four parallel claims are held, the others refused')
  t.match(claims.find((c) => c.statusCode === 409)!.json(), { code: 'TOO_MANY_CLAIMS', message: /already hold 2 claims/ })
  const pending = await app.inject({ method: 'GET', url: '/shipments?status=PENDING', headers: { cookie: admin } })
  t.equal(pending.json().items.length, 2, 'the two unclaimed are still offered to others')
})

t.test('POST /shipments/:id/pack: answered 200 when Redis goes away after the write', async (t) => {
  const proxy = await startTcpProxy(t, '127.0.0.1', 6379)
  const { app } = await buildTestApi(t, await isolatedEnv(t, { REDIS_URL: `redis://127.0.0.1:${proxy.port}` }))
  const admin = await loginCookie(app)
  const agent = (await userCookie(app, admin, ['agent'])).cookie
  const [id] = await pendingShipments(app, admin, 1)
  t.equal((await app.inject({ method: 'POST', url: `/shipments/${id}/claim`, headers: { cookie: agent } })).statusCode, 200)
  // The pack reads the session and the claim, writes the database, then moves the counts and
  // releases the claim, each by script: Redis is refused from the first of them on.
  const cut = proxy.refuseWhen((chunk) => /evalsha/i.test(chunk.toString('latin1')))
  const packed = await app.inject({ method: 'POST', url: `/shipments/${id}/pack`, headers: { cookie: agent } })
  t.ok(await Promise.race([cut.then(() => true), sleep(1000).then(() => false)]), 'Redis was cut at the release')
  t.equal(packed.statusCode, 200, 'the write is the truth: 200, not 503')
  t.equal(packed.json().status, 'PACKED')
  proxy.restore() // so that the app closes its connections cleanly
})
