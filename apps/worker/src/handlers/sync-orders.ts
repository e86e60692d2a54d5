import type { Cache } from '@tms/cache'
import type { QuarantinedOrders, ShipmentRequests } from '@tms/warehouse'
import type { Redis } from 'ioredis'
import type { ShopClient } from '../shop-client.js'
import { checkShopOrder, PAGE_SIZE, toShipmentRequest } from '../shop-orders.js'
import type { JobHandler } from './job-context.js'

const SYNCED_IDS_KEY = 'already-synced-order-ids'

/**
 * sync-orders: new web-shop orders become shipment requests. The cursor (the last order seen)
 * moves only after a page is stored, and orders already synced are skipped (their ids in the
 * shared cache); the order id being unique in storage makes a rerun of the same tick, or of a
 * crashed one, create nothing twice. What the shop sends is checked order by order: one that
 * no request can be made of is quarantined for an operator, and the sync moves past it.
 */
export function syncOrders(deps: {
  shop: ShopClient
  requests: ShipmentRequests
  quarantine: QuarantinedOrders
  cache: Cache
  redis: Redis
  cursorKey: string
}): JobHandler {
  return async ({ signal, logger }) => {
    const synced = new Set(await deps.cache.cached(SYNCED_IDS_KEY, () => deps.requests.recentOrderIds(5000), { ttl: '10m' }))
    let cursor = Number((await deps.redis.get(deps.cursorKey)) ?? 0)
    let created = 0
    let skipped = 0
    let withProblems = 0
    let quarantined = 0
    let pages = 0
    for (;;) {
      const page = await deps.shop.orders(cursor, PAGE_SIZE, signal)
      pages++
      for (const [index, raw] of page.items.entries()) {
        signal.throwIfAborted()
        const checked = checkShopOrder(raw)
        if (!checked.ok) {
          const seq = (raw as { seq?: unknown } | null)?.seq
          const id = (raw as { id?: unknown } | null)?.id
          const source = `shop:${Number.isSafeInteger(seq) ? seq : `${cursor}+${index}`}`
          const outcome = await deps.quarantine.record({
            source,
            orderId: typeof id === 'string' ? id : null,
            problems: checked.problems,
            payload: raw,
          })
          if (outcome === 'recorded') {
            quarantined++
            logger.warn({ source, problems: checked.problems }, 'shop order quarantined')
          }
          continue
        }
        const order = checked.order
        if (synced.has(order.id)) {
          skipped++
          continue
        }
        const outcome = await deps.requests.submit(toShipmentRequest(order))
        if (outcome.created) created++
        else skipped++
        if (outcome.request.errors.length > 0) withProblems++
      }
      // A shop whose cursor does not move would have this loop ask for the same page forever.
      if (page.items.length > 0 && page.next <= cursor) throw new Error(`the shop's cursor did not move past ${cursor}`)
      cursor = page.next
      await deps.redis.set(deps.cursorKey, String(cursor))
      if (page.items.length < PAGE_SIZE) break
    }
    if (created > 0) await deps.cache.delete(SYNCED_IDS_KEY)
    return { created, skipped, withProblems, quarantined, pages, cursor }
  }
}
