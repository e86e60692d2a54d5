import { setTimeout as sleep } from 'node:timers/promises'
import { Shipments, shipments as shipmentsCollection } from '@tms/warehouse'
import t from 'tap'
import { inspector, isolatedEnv, startShop, startWorker } from './support.js'

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
