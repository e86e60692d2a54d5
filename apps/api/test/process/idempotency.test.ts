import { randomUUID } from 'node:crypto'
import t from 'tap'
import { cookieFrom, http } from '../http-client.js'
import { ADMIN, isolatedEnv, startApiProcess } from '../support.js'

const address = { name: 'Ada', street: 'Main 1', city: 'Linz', postalCode: '4020', country: 'AT' }

t.test('one Idempotency-Key sent to two API processes: one effect, one stored answer', async (t) => {
  const env = await isolatedEnv(t)
  const [a, b] = await Promise.all([startApiProcess(t, env, 'api-a'), startApiProcess(t, env, 'api-b')])
  // The admin holds every warehouse role: it creates the shipment and packs it.
  const cookie = cookieFrom(await http(a.url, 'POST', '/auth/login', { body: ADMIN }))
  const order = { orderId: 'o-1', items: [{ sku: 'TRK-DOG-4', quantity: 1 }], address }
  t.equal((await http(a.url, 'POST', '/shipment-requests', { cookie, body: order })).status, 201)
  t.equal((await http(a.url, 'POST', '/shipments/bulk', { cookie })).status, 200)
  const [shipment] = (await http(b.url, 'GET', '/shipments?status=PENDING', { cookie })).json<{ items: Array<{ id: string }> }>()
    .items
  const id = shipment!.id
  t.equal((await http(a.url, 'POST', `/shipments/${id}/claim`, { cookie })).status, 200)

  const headers = { 'idempotency-key': randomUUID() }
  const both = await Promise.all([a, b].map((api) => http(api.url, 'POST', `/shipments/${id}/pack`, { cookie, headers })))
  const done = both.filter((r) => r.status === 200 && r.headers['idempotent-replayed'] === undefined)
  t.equal(done.length, 1, 'one instance did the pack')
  const other = both.find((r) => r !== done[0])!
  t.ok(
    (other.status === 200 && other.headers['idempotent-replayed'] === 'true') ||
      (other.status === 409 && other.json<{ code: string }>().code === 'IDEMPOTENCY_KEY_IN_PROGRESS'),
    `the other replayed it or said to retry (${other.status} ${other.body.slice(0, 80)})`,
  )
  const packedBy = done[0]!.headers['x-instance-id']
  const replayer = both[0] === done[0] ? b : a
  const replay = await http(replayer.url, 'POST', `/shipments/${id}/pack`, { cookie, headers })
  t.equal(replay.status, 200, 'the instance that did not pack answers the retry 200')
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.not(replay.headers['x-instance-id'], packedBy)
  t.equal(replay.body, done[0]!.body, 'with the stored answer')

  const shipped = { trackingNumber: 'AT-1234' }
  const shipKey = { 'idempotency-key': randomUUID() }
  t.equal((await http(a.url, 'POST', `/shipments/${id}/ship`, { cookie, headers: shipKey, body: shipped })).status, 200)
  const reused = await http(b.url, 'POST', `/shipments/${id}/ship`, {
    cookie,
    headers: shipKey,
    body: { trackingNumber: 'AT-9999' },
  })
  t.equal(reused.status, 422, 'the key with another body, on the other instance')
  t.equal(reused.json<{ code: string }>().code, 'IDEMPOTENCY_KEY_REUSED')
  const final = await http(b.url, 'GET', `/shipments/${id}`, { cookie })
  t.match(final.json(), { status: 'SHIPPED', trackingNumber: 'AT-1234', version: 3 }, 'created, packed, shipped: once each')
})
