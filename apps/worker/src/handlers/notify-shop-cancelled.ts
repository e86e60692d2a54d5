import type { NOTIFY_SHOP_CANCELLED_JOB } from '@tms/jobs'
import type { ShipmentRequests } from '@tms/warehouse'
import type { ShopClient } from '../shop-client.js'
import type { JobHandler } from './job-context.js'

/**
 * notify-shop-cancelled: tells the web shop an order will not ship; one job per cancelled
 * request, queued when an operator cancels it (and again by housekeeping if that was lost).
 */
export function notifyShopCancelled(deps: {
  shop: ShopClient
  requests: ShipmentRequests
}): JobHandler<typeof NOTIFY_SHOP_CANCELLED_JOB> {
  return async ({ signal, data }) => {
    const { requestId, orderId, reason } = data
    await deps.shop.notifyCancelled(orderId, { requestId, reason }, signal)
    await deps.requests.markCancellationNotified(requestId)
    return { orderId }
  }
}
