import { setTimeout as sleep } from 'node:timers/promises'
import { createCaches } from '@tms/cache'
import { LockService, locksPrefix } from '@tms/locks'
import { createLogger } from '@tms/logging'
import { createRedis } from '@tms/redis'
import {
  Catalogue,
  Devices,
  devices,
  RefurbishmentBatches,
  refurbishmentBatches,
  ShipmentRequests,
  Shipments,
  shipmentRequests,
  shipments as shipmentsCollection,
} from '@tms/warehouse'
import t from 'tap'
import { inspector, isolatedEnv, shopFault, startShop, startWorker, until } from '../support.js'

const quiet = createLogger({ app: 'worker-test', version: '0', instanceId: 'test', level: 'silent' })

type ShopStats = { shipped: number; repeatedNotifications: number; notificationsReceived: number; notificationBatches: number }
const shopStats = async (url: string) => (await (await fetch(`${url}/stats`)).json()) as ShopStats

/** Shipments of `count` orders, synced from the shop and created by the worker, all PENDING. */
async function pendingShipments(look: Awaited<ReturnType<typeof inspector>>, count: number) {
  const shipments = new Shipments(look.storage)
  for (const id of ['sync-orders', 'create-shipments']) {
    await look.admin.runNow(id)
    await until(async () => (await look.runs.all(id)).some((r) => r.trigger === 'on-demand' && r.outcome === 'succeeded'))
  }
  const pending = await shipments.list({ status: 'PENDING', limit: count })
  if (pending.length !== count) throw new Error(`expected ${count} pending shipments, found ${pending.length}`)
  return { shipments, pending }
}

/** Packs and ships each, as the agent who packed it: the way the API ships, notification DUE. */
async function packAndShip(shipments: Shipments, pending: ReadonlyArray<{ id: string }>) {
  for (const { id } of pending) {
    await shipments.pack(id, { id: 'agent-1', name: 'agent' })
    await shipments.ship(id, `TRK-${id.slice(0, 8)}`, { id: 'agent-1', mayShipAny: false })
  }
}

/** The nth on-demand run of a schedule that ended (succeeded or failed), once there is one. */
const ended = (look: Awaited<ReturnType<typeof inspector>>, id: string, nth: number) => async () =>
  (await look.runs.all(id)).filter((r) => r.trigger === 'on-demand' && (r.outcome === 'succeeded' || r.outcome === 'failed'))[
    nth - 1
  ]

/** Ships as an API did before notify-shipped: nothing marked DUE, and a per-shipment job queued. */
async function shipAsOlderApi(look: Awaited<ReturnType<typeof inspector>>, id: string, trackingNumber: string) {
  const current = (await look.storage.get(shipmentsCollection, id))!
  const shipped = await look.storage.update(shipmentsCollection, current, {
    status: 'SHIPPED',
    trackingNumber,
    shippedAt: new Date().toISOString(),
  })
  await look.admin.notifyShop({ shipmentId: id, orderId: shipped.data.orderId, trackingNumber })
}

t.test('notify-shipped tells the shop of every shipped shipment in batches, each once', async (t) => {
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '20', SHOP_ORDERS_PER_MINUTE: '0', SHOP_PROBLEM_RATE: '0' })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url, SHOP_NOTIFY_BATCH_SIZE: '8' })
  const look = await inspector(t, env)
  const workers = [await startWorker(t, env, 'n1'), await startWorker(t, env, 'n2')]
  const { shipments, pending } = await pendingShipments(look, 20)
  await packAndShip(shipments, pending)
  t.equal(await look.storage.count(shipmentsCollection, { shopNotification: 'DUE' }), 20, 'shipping marked each one DUE')
  const before = await shopStats(shop.url)

  await look.admin.runNow('notify-shipped')
  const run = await until(ended(look, 'notify-shipped', 1))
  t.match(run, { outcome: 'succeeded', result: { notified: 20, refused: 0, batches: 3 } }, '20 shipments, 8 per call')
  const after = await shopStats(shop.url)
  t.equal(after.shipped, 20, 'the shop heard of all 20')
  t.equal(after.notificationBatches - before.notificationBatches, 3, 'in three calls, not twenty')
  const shipped = await shipments.list({ status: 'SHIPPED', limit: 20 })
  t.ok(
    shipped.every((s) => s.shopNotifiedAt && s.version === 4),
    'each shipment knows the shop was told, in one write',
  )
  t.equal(await look.storage.count(shipmentsCollection, { shopNotification: 'DUE' }), 0, 'none is DUE any more')

  await look.admin.runNow('notify-shipped')
  t.match(await until(ended(look, 'notify-shipped', 2)), { outcome: 'succeeded', result: { notified: 0, batches: 0 } })
  t.equal((await shopStats(shop.url)).repeatedNotifications, 0, 'the next run sends nothing again')
  await Promise.all(workers.map((w) => w.stop()))
})

t.test('a shop outage leaves shipments DUE; once back, a batch it refuses is sent order by order', async (t) => {
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '3', SHOP_ORDERS_PER_MINUTE: '0', SHOP_PROBLEM_RATE: '0' })
  await shopFault(shop.url, { mode: 'error', requests: 10_000, target: 'notifications' })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url, SHOP_NOTIFICATION_GRACE_MS: '1000' })
  const look = await inspector(t, env)
  const worker = await startWorker(t, env)
  const { shipments, pending } = await pendingShipments(look, 3)
  await packAndShip(shipments, pending)
  await look.admin.runNow('notify-shipped')
  // Every attempt of the run failed (each after the client's own three tries).
  await until(async () => (await look.queue.getJobCounts('failed')).failed === 1)
  // (Besides the run a schedule makes when it is first created, with nothing shipped yet.)
  const attempts = (await look.runs.all('notify-shipped')).filter((r) => r.trigger === 'on-demand')
  t.equal(attempts.length, 3)
  t.ok(
    attempts.every((r) => r.outcome === 'failed' && /the shop failed 3 times: shop answered 500/.test(r.error ?? '')),
    'each attempt failed, and says why',
  )
  t.equal((await shopStats(shop.url)).shipped, 0)
  t.equal(await look.storage.count(shipmentsCollection, { shopNotification: 'DUE' }), 3, 'all three still DUE')
  await sleep(1200)
  await look.admin.runNow('housekeeping')
  const housekeeping = await until(ended(look, 'housekeeping', 1))
  t.match(housekeeping.result, { shopNotificationsRequeued: 0 }, 'housekeeping leaves DUE ones to notify-shipped')

  // The shop is back, but will not take one of the orders (an id longer than its webhook allows).
  await shopFault(shop.url, { mode: 'ok', target: 'notifications' })
  const refused = (await look.storage.get(shipmentsCollection, pending[0]!.id))!
  await look.storage.update(shipmentsCollection, refused, { orderId: 'X'.repeat(90) })
  await look.admin.runNow('notify-shipped')
  const run = await until(async () =>
    (await look.runs.all('notify-shipped')).find((r) => r.trigger === 'on-demand' && r.outcome === 'succeeded'),
  )
  t.match(run.result, { notified: 2, refused: 1 }, 'the two the shop takes are told; the refused one waits')
  t.equal((await shopStats(shop.url)).shipped, 2)
  t.same(
    (await look.storage.find(shipmentsCollection, { where: { shopNotification: 'DUE' } })).map((s) => s.id),
    [refused.id],
    'only the refused one is still DUE, for the next run',
  )
  t.same(await worker.stop(), { code: 0, signal: null })
})

t.test("an older API's per-shipment jobs still reach the shop, by exactly one worker each, once", async (t) => {
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '20', SHOP_ORDERS_PER_MINUTE: '0', SHOP_PROBLEM_RATE: '0' })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url })
  const look = await inspector(t, env)
  const workers = [await startWorker(t, env, 'n1'), await startWorker(t, env, 'n2')]
  const { shipments, pending } = await pendingShipments(look, 20)
  for (const shipment of pending) {
    await shipments.pack(shipment.id, { id: 'agent-1', name: 'agent' })
    await shipAsOlderApi(look, shipment.id, `TRK-${shipment.id.slice(0, 8)}`)
  }
  await until(async () => (await shopStats(shop.url)).shipped === 20)
  t.equal((await shopStats(shop.url)).shipped, 20, 'the shop heard of all 20')
  await until(async () => (await shipments.list({ status: 'SHIPPED', limit: 20 })).every((s) => s.shopNotifiedAt))
  t.ok(
    (await shipments.list({ status: 'SHIPPED', limit: 20 })).every((s) => s.shopNotifiedAt),
    'each shipment knows the shop was told',
  )
  // The shipment is marked inside the run, just before the run's record is: wait for the records.
  await until(async () => (await look.runs.all('notify-shop')).filter((r) => r.outcome !== 'running').length >= 20)
  const runs = await look.runs.all('notify-shop')
  t.equal(runs.filter((r) => r.outcome === 'succeeded').length, 20, 'one run per shipment')

  const again = await shipments.list({ status: 'SHIPPED', limit: 1 })
  await look.admin.notifyShop({ shipmentId: again[0]!.id, orderId: again[0]!.orderId, trackingNumber: again[0]!.trackingNumber! })
  await sleep(1000)
  t.equal((await look.runs.all('notify-shop')).length, 20, 'queueing the same shipment again adds no job')
  t.equal((await shopStats(shop.url)).repeatedNotifications, 0)
  await Promise.all(workers.map((w) => w.stop()))
})

t.test("an older API's notification that used up its attempts reaches the shop once it recovers", async (t) => {
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '3', SHOP_ORDERS_PER_MINUTE: '0', SHOP_PROBLEM_RATE: '0' })
  // The webhook fails every call until told otherwise: every try of every attempt.
  await shopFault(shop.url, { mode: 'error', requests: 10_000, target: 'notifications' })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url, SHOP_NOTIFICATION_GRACE_MS: '1000' })
  const look = await inspector(t, env)
  const worker = await startWorker(t, env)
  const shipments = new Shipments(look.storage)
  const done = (id: string, nth: number) => async () =>
    (await look.runs.all(id)).filter((r) => r.trigger === 'on-demand' && r.outcome === 'succeeded')[nth - 1]
  await look.admin.runNow('sync-orders')
  await until(done('sync-orders', 1))
  await look.admin.runNow('create-shipments')
  await until(done('create-shipments', 1))
  const agent = { id: 'agent-1', name: 'agent' }
  for (const shipment of await shipments.list({ status: 'PENDING', limit: 3 })) {
    await shipments.pack(shipment.id, agent)
    await shipAsOlderApi(look, shipment.id, `TRK-${shipment.id.slice(0, 8)}`)
  }
  await until(async () => (await look.queue.getJobCounts('failed')).failed === 3, 120_000)
  const stats = async () =>
    (await (await fetch(`${shop.url}/stats`)).json()) as { shipped: number; notificationsReceived: number }
  t.equal(
    (await stats()).shipped,
    0,
    `every attempt of all three failed; the shop knows of none (${JSON.stringify(await stats())})`,
  )
  t.ok((await stats()).notificationsReceived >= 3 * 5, `the webhook was called ${(await stats()).notificationsReceived} times`)

  await shopFault(shop.url, { mode: 'ok', target: 'notifications' })
  const { jobId: firstJob } = await look.admin.runNow('housekeeping')
  const first = await until(done('housekeeping', 1))
  t.match(first.result, { shopNotificationsRequeued: 3 }, 'housekeeping sends all three again')
  await until(async () => (await stats()).shipped === 3)
  t.equal((await stats()).shipped, 3, 'the shop heard of all three')
  await until(async () => (await shipments.list({ status: 'SHIPPED', limit: 3 })).every((s) => s.shopNotifiedAt))
  // Recorded is not yet finished in BullMQ: until it is, "run now" joins that job (deduplicated).
  await until(async () => (await look.queue.getJob(firstJob))?.finishedOn)
  await look.admin.runNow('housekeeping')
  const second = await until(done('housekeeping', 2))
  t.match(second.result, { shopNotificationsRequeued: 0 }, 'and the next run has nothing to send')
  t.same(await worker.stop(), { code: 0, signal: null })
})

t.test('a cancelled order reaches the shop; a batch left SHIPPING is completed by housekeeping', async (t) => {
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '0', SHOP_ORDERS_PER_MINUTE: '0' })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url, SHOP_NOTIFICATION_GRACE_MS: '1000' })
  const look = await inspector(t, env)
  const worker = await startWorker(t, env)
  const locks = new LockService({ redis: look.redis, prefix: locksPrefix(env.REDIS_KEY_PREFIX!) })
  const requests = new ShipmentRequests(look.storage)
  const address = { name: 'Ada', street: 'Main 1', city: 'Linz', postalCode: '4020', country: 'AT' }
  const { request } = await requests.submit({ orderId: 'SHOP-CANCEL-1', items: [{ sku: 'TRK-DOG-4', quantity: 1 }], address })
  await requests.cancel(request.id, 'the customer withdrew', 'operator@test.local')
  await look.admin.notifyShopCancelled({ requestId: request.id, orderId: 'SHOP-CANCEL-1', reason: 'the customer withdrew' })
  const stats = async () => (await (await fetch(`${shop.url}/stats`)).json()) as { cancelled: number }
  await until(async () => (await stats()).cancelled === 1)
  await until(async () => (await look.storage.get(shipmentRequests, request.id))?.data.shopNotifiedAt)
  t.pass('the shop heard, and the request knows it')

  // A batch whose ship died after its first step: SHIPPING, its device still IN_BATCH.
  const subscriber = createRedis(env.REDIS_URL!, { connectionName: 'notify-test-bus', role: 'subscriber' })
  t.teardown(() => subscriber.disconnect())
  const caches = createCaches({ redis: look.redis, subscriber, prefix: env.REDIS_KEY_PREFIX!, logger: quiet })
  t.teardown(() => caches.close())
  const catalogue = new Catalogue(look.storage, caches.memory)
  await new Devices(look.storage, catalogue).register('partner-1', [
    {
      deviceId: 'DEV-0001',
      modelNumber: 'TG5',
      hardwareEdition: 'BLACK-WORLDWIDE',
      innerboxId: 'IB-0001',
      masterboxId: 'MB-0001',
    },
  ])
  const batches = new RefurbishmentBatches(look.storage, catalogue, locks, { claimTtlMs: 60_000, maxClaimsPerAgent: 3 })
  const agent = { id: 'agent-1', name: 'ada@test.local' }
  const batch = await batches.create({ description: 'stuck', modelNumber: 'TG5', hardwareEdition: 'BLACK-WORLDWIDE' }, agent)
  await batches.addDevices(batch.id, { deviceIds: ['DEV-0001'] }, agent)
  await batches.pack(batch.id, agent)
  const packed = (await look.storage.get(refurbishmentBatches, batch.id))!
  await look.storage.update(refurbishmentBatches, packed, { status: 'SHIPPING', trackingNumber: 'AT-STUCK-01' })
  await sleep(1200)
  await look.admin.runNow('housekeeping')
  const run = await until(async () =>
    (await look.runs.all('housekeeping')).find((r) => r.trigger === 'on-demand' && r.outcome === 'succeeded'),
  )
  t.match(run.result, { batchesCompleted: 1 })
  t.match((await look.storage.get(refurbishmentBatches, batch.id))?.data, { status: 'SHIPPED', trackingNumber: 'AT-STUCK-01' })
  t.match((await look.storage.get(devices, 'DEV-0001'))?.data, { status: 'SHIPPED', trackingNumber: 'AT-STUCK-01' })
  t.same(await worker.stop(), { code: 0, signal: null })
})
