import { setTimeout as sleep } from 'node:timers/promises'
import { LockService, locksPrefix } from '@tms/locks'
import { connectRedis, createRedis } from '@tms/redis'
import t from 'tap'
import { cookieFrom, http } from '../http-client.js'
import { ADMIN, isolatedEnv, startApiProcess } from '../support.js'

const address = { name: 'Ada', street: 'Main 1', city: 'Linz', postalCode: '4020', country: 'AT' }

t.test('claims across two API processes', async (t) => {
  // Long enough for the race and the checks made while the claim holds, on a busy machine (the
  // 50 claims alone took seconds there); the test waits for it to lapse after.
  const env = await isolatedEnv(t, { PACKING_CLAIM_TTL_SECONDS: '10' })
  const apis = [await startApiProcess(t, env, 'api-a'), await startApiProcess(t, env, 'api-b')]
  const [a, b] = apis.map((api) => api.url) as [string, string]
  const admin = cookieFrom(await http(a, 'POST', '/auth/login', { body: ADMIN }))

  // 50 agents, logged in on alternating instances.
  const agents: string[] = []
  for (let i = 0; i < 50; i++) {
    const email = `agent${i}@test.local`
    await http(a, 'POST', '/users', { cookie: admin, body: { email, password: 'agent password 1', roles: ['agent'] } })
    agents.push(cookieFrom(await http(i % 2 ? b : a, 'POST', '/auth/login', { body: { email, password: 'agent password 1' } })))
  }
  for (const orderId of ['o-1', 'o-2']) {
    await http(a, 'POST', '/shipment-requests', {
      cookie: admin,
      body: { orderId, items: [{ sku: 'TRK-CAT-4', quantity: 1 }], address },
    })
  }
  t.same((await http(b, 'POST', '/shipments/bulk', { cookie: admin })).json(), { created: 2 })
  const pending = async (url: string) =>
    (await http(url, 'GET', '/shipments?status=PENDING', { cookie: agents[0]! }))
      .json<{ items: Array<{ id: string }> }>()
      .items.map((s) => s.id)
  const [first, second] = (await pending(a)) as [string, string]

  const attempts = await Promise.all(
    agents.map((cookie, i) => http(i % 2 ? b : a, 'POST', `/shipments/${first}/claim`, { cookie })),
  )
  const winners = attempts.filter((r) => r.status === 200)
  t.equal(winners.length, 1, '50 parallel claims by different agents on 2 instances: exactly one 200')
  t.equal(attempts.filter((r) => r.status === 409).length, 49, 'the others a 409')
  t.match(attempts.find((r) => r.status === 409)?.json(), { message: /is claimed by another agent until/ })
  const holderIndex = attempts.indexOf(winners[0]!)
  const holder = agents[holderIndex]!
  t.match(winners[0]!.json(), { shipmentId: first, claimedBy: `agent${holderIndex}@test.local` })

  t.same(await pending(a), [second], 'instance A no longer offers it')
  t.same(await pending(b), [second], 'nor does instance B')
  const again = await http(b, 'POST', `/shipments/${first}/claim`, { cookie: holder })
  t.equal(again.status, 200, 'claiming again by the holder is fine')
  const lapsesAt = Date.parse(again.json<{ expiresAt: string }>().expiresAt)
  const other = agents[(holderIndex + 1) % 50]!
  t.equal((await http(a, 'POST', `/shipments/${first}/claim/extend`, { cookie: other })).status, 409, 'only the holder extends')
  t.equal((await http(a, 'POST', `/shipments/${first}/pack`, { cookie: other })).status, 409, 'only the holder packs')

  await sleep(Math.max(0, lapsesAt - Date.now()) + 300) // the claim lapses: no extension
  t.same((await pending(b)).sort(), [first, second].sort(), 'after expiry it is offered again')
  t.equal((await http(a, 'POST', `/shipments/${first}/claim/extend`, { cookie: holder })).status, 409, 'too late to extend')

  const claimed = await http(a, 'POST', `/shipments/${second}/claim`, { cookie: other })
  t.equal(claimed.status, 200)
  const extended = await http(b, 'POST', `/shipments/${second}/claim/extend`, { cookie: other })
  t.equal(extended.status, 200)
  const expiry = (reply: typeof claimed) => Date.parse(reply.json<{ expiresAt: string }>().expiresAt)
  t.ok(expiry(extended) > expiry(claimed), 'the extension moves the expiry later')
  t.equal((await http(b, 'DELETE', `/shipments/${second}/claim`, { cookie: other })).status, 204)
  t.ok((await pending(a)).includes(second), 'released: offered again')

  const counts = () => http(a, 'GET', '/shipments/counts', { cookie: admin }).then((r) => r.json())
  t.same(await counts(), { PENDING: 2, PACKED: 0, SHIPPED: 0 })
  t.equal((await http(b, 'POST', `/shipments/${second}/claim`, { cookie: other })).status, 200)
  const packed = await http(b, 'POST', `/shipments/${second}/pack`, { cookie: other })
  t.equal(packed.status, 200, 'packed on instance B under the claim')
  t.same(await counts(), { PENDING: 1, PACKED: 1, SHIPPED: 0 }, 'instance A’s cached counts followed at once')
  t.notOk((await pending(a)).includes(second))
})

t.test('bulk creation runs under the cluster-wide service lock', async (t) => {
  const env = await isolatedEnv(t)
  const api = await startApiProcess(t, env)
  const admin = cookieFrom(await http(api.url, 'POST', '/auth/login', { body: ADMIN }))
  const redis = createRedis(env.REDIS_URL!, { connectionName: 'bulk-test' })
  t.teardown(() => redis.disconnect())
  await connectRedis(redis)
  // Someone else (another instance, or the worker's job) is creating shipments right now.
  const locks = new LockService({ redis, prefix: locksPrefix(env.REDIS_KEY_PREFIX!) })
  let release!: () => void
  let holding!: () => void
  const held = new Promise<void>((resolve) => (holding = resolve))
  const running = locks.withServiceLock('create-shipments', () => {
    holding()
    return new Promise<void>((r) => (release = r))
  })
  await held
  const busy = await http(api.url, 'POST', '/shipments/bulk', { cookie: admin })
  t.equal(busy.status, 409)
  t.equal(busy.json<{ message: string }>().message, 'create-shipments is already running')
  release()
  await running
  t.equal((await http(api.url, 'POST', '/shipments/bulk', { cookie: admin })).status, 200)
})

t.test('the catalogue comes from the memory cache; unknown SKUs are data problems', async (t) => {
  const env = await isolatedEnv(t)
  const api = await startApiProcess(t, env)
  const admin = cookieFrom(await http(api.url, 'POST', '/auth/login', { body: ADMIN }))
  const products = await http(api.url, 'GET', '/catalogue/products', { cookie: admin })
  t.ok(products.json<{ items: Array<{ sku: string }> }>().items.some((p) => p.sku === 'TRK-DOG-4-BROWN'))
  await http(api.url, 'GET', '/catalogue/products', { cookie: admin })
  const stats = (await http(api.url, 'GET', '/admin/cache', { cookie: admin })).json<{ hits: number; loads: number }>()
  t.ok(stats.hits >= 1, `served from the cache (${JSON.stringify(stats)})`)
  const request = await http(api.url, 'POST', '/shipment-requests', {
    cookie: admin,
    body: {
      orderId: 'o-x',
      items: [
        { sku: 'TRK-DOG-4', quantity: 1 },
        { sku: 'MYSTERY-BOX', quantity: 2 },
      ],
      address,
    },
  })
  t.same(request.json<{ errors: unknown[] }>().errors, [{ field: 'items.1.sku', message: 'unknown SKU "MYSTERY-BOX"' }])
})
