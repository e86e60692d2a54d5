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

t.test('shipped shipments are told to the shop by exactly one worker each, once', async (t) => {
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '20', SHOP_ORDERS_PER_MINUTE: '0', SHOP_PROBLEM_RATE: '0' })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url })
  const look = await inspector(t, env)
  const workers = [await startWorker(t, env, 'n1'), await startWorker(t, env, 'n2')]
  const shipments = new Shipments(look.storage)
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 300 && !(await check()); i++) await sleep(100)
  }
  const onDemandDone = (id: string) => async () =>
    (await look.runs.all(id)).some((r) => r.trigger === 'on-demand' && r.outcome === 'succeeded')
  await look.admin.runNow('sync-orders')
  await until(onDemandDone('sync-orders'))
  await look.admin.runNow('create-shipments')
  await until(onDemandDone('create-shipments'))
  t.equal(await look.storage.count(shipmentsCollection), 20)
  for (const shipment of await shipments.list({ status: 'PENDING', limit: 20 })) {
    await shipments.pack(shipment.id, { id: 'agent-1', name: 'agent' })
    const shipped = await shipments.ship(shipment.id, `TRK-${shipment.id.slice(0, 8)}`, { id: 'agent-1', mayShipAny: false })
    await look.admin.notifyShop({ shipmentId: shipped.id, orderId: shipped.orderId, trackingNumber: shipped.trackingNumber! })
  }
  const stats = async () =>
    (await (await fetch(`${shop.url}/stats`)).json()) as { shipped: number; repeatedNotifications: number }
  await until(async () => (await stats()).shipped === 20)
  t.equal((await stats()).shipped, 20, 'the shop heard of all 20')
  await until(async () => (await shipments.list({ status: 'SHIPPED', limit: 20 })).every((s) => s.shopNotifiedAt))
  t.ok(
    (await shipments.list({ status: 'SHIPPED', limit: 20 })).every((s) => s.shopNotifiedAt),
    'each shipment knows the shop was told',
  )
  const runs = await look.runs.all('notify-shop')
  t.equal(runs.filter((r) => r.outcome === 'succeeded').length, 20, 'one run per shipment')
  t.ok(new Set(runs.map((r) => r.instance)).size >= 1)

  const again = await shipments.list({ status: 'SHIPPED', limit: 1 })
  await look.admin.notifyShop({ shipmentId: again[0]!.id, orderId: again[0]!.orderId, trackingNumber: again[0]!.trackingNumber! })
  await sleep(1000)
  t.equal((await look.runs.all('notify-shop')).length, 20, 'queueing the same shipment again adds no job')
  t.equal((await stats()).repeatedNotifications, 0)
  await Promise.all(workers.map((w) => w.stop()))
})

t.test('a notification that used up its attempts reaches the shop once it recovers', async (t) => {
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
    const shipped = await shipments.ship(shipment.id, `TRK-${shipment.id.slice(0, 8)}`, { id: agent.id, mayShipAny: false })
    await look.admin.notifyShop({ shipmentId: shipped.id, orderId: shipped.orderId, trackingNumber: shipped.trackingNumber! })
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
  await look.admin.runNow('housekeeping')
  const first = await until(done('housekeeping', 1))
  t.match(first.result, { shopNotificationsRequeued: 3 }, 'housekeeping sends all three again')
  await until(async () => (await stats()).shipped === 3)
  t.equal((await stats()).shipped, 3, 'the shop heard of all three')
  await until(async () => (await shipments.list({ status: 'SHIPPED', limit: 3 })).every((s) => s.shopNotifiedAt))
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
  const batches = new RefurbishmentBatches(look.storage, catalogue, locks, { claimTtlMs: 60_000 })
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
