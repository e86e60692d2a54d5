import type { Cache } from '@tms/cache'
import { isCodedError } from '@tms/errors'
import type { SCHEDULED_JOBS } from '@tms/jobs'
import { isRedisUnavailable } from '@tms/redis'
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
}): JobHandler<typeof SCHEDULED_JOBS.syncOrders> {
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
        let outcome: Awaited<ReturnType<ShipmentRequests['submit']>>
        try {
          outcome = await deps.requests.submit(toShipmentRequest(order))
        } catch (error) {
          // Redis or the database away: the run fails and the next one starts at this page again.
          if (isTransient(error)) throw error
          // This order, not the database: it would fail at this cursor on every run. Kept for an
          // operator with the reason, and the sync moves on.
          const source = `shop:${order.seq}`
          const problem = `could not be stored: ${storageProblem(error)}`
          if ((await deps.quarantine.record({ source, orderId: order.id, problems: [problem], payload: raw })) === 'recorded') {
            quarantined++
            logger.warn({ source, err: error }, 'shop order quarantined: storing it failed')
          }
          continue
        }
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

/** A failure worth retrying the whole run for: a 503 of ours, or Redis away. */
const isTransient = (error: unknown) => (isCodedError(error) && error.statusCode === 503) || isRedisUnavailable(error)

/** What an operator reads of a storage refusal: the database's code and message, one line, bounded. */
function storageProblem(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown }
  const text = String(message ?? error)
    .replace(/\s+/g, ' ')
    .slice(0, 160)
  return typeof code === 'string' ? `${code}: ${text}` : text
}
