import type { NOTIFY_SHOP_JOB } from '@tms/jobs'
import type { Shipments } from '@tms/warehouse'
import type { ShopClient } from '../shop-client.js'
import type { JobHandler } from './job-context.js'

/**
 * notify-shop: tells the web shop that an order shipped, with its tracking number; one job per
 * shipment, queued when it ships (and again by housekeeping if that was lost). The shop's
 * webhook is idempotent, and the shipment remembers the shop knows.
 */
export function notifyShop(deps: { shop: ShopClient; shipments: Shipments }): JobHandler<typeof NOTIFY_SHOP_JOB> {
  return async ({ signal, data }) => {
    const { shipmentId, orderId, trackingNumber } = data
    await deps.shop.notifyShipped(orderId, { shipmentId, trackingNumber }, signal)
    await deps.shipments.markShopNotified(shipmentId)
    return { orderId }
  }
}
