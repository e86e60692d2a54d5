import { randomUUID } from 'node:crypto'
import { TEST_REDIS_URL } from '@tms/testing'
import { Redis } from 'ioredis'
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

/** A partner's registration of 1,000 devices of a model nobody makes: 1,000 rejections, about 200 KB of answer. */
const unknownModels = (from: number) => ({
  devices: Array.from({ length: 1000 }, (_, i) => ({
    deviceId: `ZZ-${String(from + i).padStart(7, '0')}`,
    modelNumber: 'NOPE9',
    hardwareEdition: 'NONE',
    innerboxId: 'IB-0001',
    masterboxId: 'MB-0001',
  })),
})

t.test('a partner writing with fresh keys on two instances cannot hold more than its bounds in Redis', async (t) => {
  const env = await isolatedEnv(t, {
    IDEMPOTENCY_MAX_KEYS_PER_PRINCIPAL: '8',
    IDEMPOTENCY_MAX_BYTES_PER_PRINCIPAL: '40000',
    RATE_LIMIT_DEVICE_REGISTRATIONS_PER_MINUTE: '1000',
  })
  const [a, b] = await Promise.all([startApiProcess(t, env, 'api-a'), startApiProcess(t, env, 'api-b')])
  const admin = cookieFrom(await http(a.url, 'POST', '/auth/login', { body: ADMIN }))
  const partner = { email: 'partner@test.local', password: 'a partner password, long' }
  await http(a.url, 'POST', '/users', { cookie: admin, body: { ...partner, roles: ['partner'] } })
  const cookie = cookieFrom(await http(a.url, 'POST', '/auth/login', { body: partner }))
  const redis = new Redis(TEST_REDIS_URL)
  t.teardown(() => redis.quit())
  const held = async () => {
    const keys = await redis.keys(`${env.REDIS_KEY_PREFIX}idem:*`)
    const entries = keys.filter((k) => !k.includes(':#'))
    const bytes = await Promise.all(entries.map((k) => redis.strlen(k)))
    return { entries: entries.length, bytes: bytes.reduce((x, y) => x + y, 0) }
  }
  const first = await http(a.url, 'POST', '/devices', {
    cookie,
    body: unknownModels(0),
    headers: { 'idempotency-key': randomUUID() },
  })
  t.equal(first.status, 200)
  t.ok(first.body.length > 50_000, `one answer is ${first.body.length} bytes`)
  t.ok((await held()).bytes < 10_000, `kept deflated: ${(await held()).bytes} bytes`)

  for (let round = 0; round < 5; round++) {
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        http(i % 2 ? a.url : b.url, 'POST', '/devices', {
          cookie,
          body: unknownModels(1000 * (round * 10 + i + 1)),
          headers: { 'idempotency-key': randomUUID() },
        }),
      ),
    )
    t.ok(
      answers.every(
        (r) => r.status === 200 || (r.status === 429 && r.json<{ code: string }>().code === 'IDEMPOTENCY_KEYS_EXHAUSTED'),
      ),
      `round ${round}: each answered, or told that too many of its writes are in flight (${answers.map((r) => r.status).join(' ')})`,
    )
    const now = await held()
    t.ok(now.entries <= 8 && now.bytes <= 40_000, `round ${round}: ${now.entries} answers, ${now.bytes} bytes kept`)
  }
  // The newest answer still replays, byte for byte, from the other instance.
  const key = randomUUID()
  const body = unknownModels(999_000)
  const done = await http(a.url, 'POST', '/devices', { cookie, body, headers: { 'idempotency-key': key } })
  const replay = await http(b.url, 'POST', '/devices', { cookie, body, headers: { 'idempotency-key': key } })
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.equal(replay.body, done.body, 'inflated, the same answer')
})

t.test('expensive writes are limited per caller and minute, on all instances together', async (t) => {
  const env = await isolatedEnv(t, { RATE_LIMIT_REQUEST_CREATIONS_PER_MINUTE: '5' })
  const [a, b] = await Promise.all([startApiProcess(t, env, 'api-a'), startApiProcess(t, env, 'api-b')])
  const admin = cookieFrom(await http(a.url, 'POST', '/auth/login', { body: ADMIN }))
  const operator = { email: 'operator@test.local', password: 'an operator password, long' }
  await http(a.url, 'POST', '/users', { cookie: admin, body: { ...operator, roles: ['operator'] } })
  const cookie = cookieFrom(await http(a.url, 'POST', '/auth/login', { body: operator }))
  const order = (i: number) => ({ orderId: `o-${i}`, items: [{ sku: 'TRK-DOG-4', quantity: 1 }], address })
  const answers = await Promise.all(
    Array.from({ length: 8 }, (_, i) => http(i % 2 ? a.url : b.url, 'POST', '/shipment-requests', { cookie, body: order(i) })),
  )
  t.equal(answers.filter((r) => r.status === 201).length, 5, 'five of eight, wherever they arrived')
  const limited = answers.filter((r) => r.status === 429)
  t.equal(limited.length, 3)
  for (const refused of limited) {
    t.match(refused.json(), { code: 'RATE_LIMITED', message: /more than 5 shipment requests a minute/ })
    t.ok(Number(refused.headers['retry-after']) >= 1, `retry-after ${refused.headers['retry-after']}`)
  }
  t.equal(
    (await http(b.url, 'POST', '/shipment-requests', { cookie: admin, body: order(100) })).status,
    201,
    'another caller is not limited by it',
  )
  t.equal((await http(a.url, 'GET', '/shipment-requests', { cookie })).status, 200, 'nor are reads')
})
