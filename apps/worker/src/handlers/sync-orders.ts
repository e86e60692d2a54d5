import type { Cache } from '@tms/cache'
import type { ShipmentRequestInput, ShipmentRequests } from '@tms/warehouse'
import type { Redis } from 'ioredis'
import type { ShopClient, ShopOrder } from '../shop-client.js'
import type { JobHandler } from './job-context.js'

const PAGE_SIZE = 100
const SYNCED_IDS_KEY = 'already-synced-order-ids'

/** The shop's order in our words. Data problems pass through as they are: the request records them. */
export function toShipmentRequest(order: ShopOrder): ShipmentRequestInput {
  const { name, street, city, zip, country } = order.shipTo
  return {
    orderId: order.id,
    items: order.lines.map(({ sku, quantity }) => ({ sku, quantity })),
    address: { name, street, city, ...(zip === undefined ? {} : { postalCode: zip }), country },
  }
}

/**
 * sync-orders: new web-shop orders become shipment requests. The cursor (the last order seen)
 * moves only after a page is stored, and orders already synced are skipped (the talk's
 * alreadySyncedOrderIds, in the shared cache); the order id being unique in storage makes a
 * rerun of the same tick, or of a crashed one, create nothing twice.
 */
export function syncOrders(deps: {
  shop: ShopClient
  requests: ShipmentRequests
  cache: Cache
  redis: Redis
  cursorKey: string
}): JobHandler {
  return async ({ signal }) => {
    const synced = new Set(await deps.cache.cached(SYNCED_IDS_KEY, () => deps.requests.recentOrderIds(5000), { ttl: '10m' }))
    let cursor = Number((await deps.redis.get(deps.cursorKey)) ?? 0)
    let created = 0
    let skipped = 0
    let withProblems = 0
    let pages = 0
    for (;;) {
      const page = await deps.shop.orders(cursor, PAGE_SIZE, signal)
      pages++
      for (const order of page.items) {
        signal.throwIfAborted()
        if (synced.has(order.id)) {
          skipped++
          continue
        }
        const outcome = await deps.requests.submit(toShipmentRequest(order))
        if (outcome.created) created++
        else skipped++
        if (outcome.request.errors.length > 0) withProblems++
      }
      cursor = page.next
      await deps.redis.set(deps.cursorKey, String(cursor))
      if (page.items.length < PAGE_SIZE) break
    }
    if (created > 0) await deps.cache.delete(SYNCED_IDS_KEY)
    return { created, skipped, withProblems, pages, cursor }
  }
}
