import type { SCHEDULED_JOBS } from '@tms/jobs'
import type { Shipments, ShippedNotice } from '@tms/warehouse'
import { isRefusal, type ShopClient } from '../shop-client.js'
import type { JobHandler } from './job-context.js'

/**
 * notify-shipped: on a schedule, tells the web shop about every shipment shipped since, many
 * per call. The API only marks a shipment's notification DUE in the write that ships it, so the
 * request path queues nothing, and the database is the outbox: nothing shipped can miss its
 * notification because a queue was away.
 *
 * A batch the shop refuses outright (a 4xx, not an outage) is sent again order by order, so one
 * order the shop will not take does not hold back the others; the refused ones stay DUE and are
 * offered again on the next run. An outage fails the run (and its retries) with nothing lost.
 */
export function notifyShipped(deps: {
  shop: ShopClient
  shipments: Shipments
  batchSize: number
}): JobHandler<typeof SCHEDULED_JOBS.notifyShipped> {
  return async ({ signal, logger }) => {
    const oneByOne = async (batch: ShippedNotice[]) => {
      const accepted: string[] = []
      for (const notice of batch) {
        try {
          const { orderId, ...body } = notice
          await deps.shop.notifyShipped(orderId, body, signal)
          accepted.push(notice.shipmentId)
        } catch (error) {
          if (!isRefusal(error)) throw error
          logger.warn({ orderId: notice.orderId, err: (error as Error).message }, 'the shop refused a shipment notification')
        }
      }
      return accepted
    }
    const send = async (batch: ShippedNotice[]) => {
      if (deps.batchSize === 1) return oneByOne(batch)
      try {
        await deps.shop.notifyShippedMany(batch, signal)
        return batch.map((notice) => notice.shipmentId)
      } catch (error) {
        if (!isRefusal(error)) throw error
        logger.warn(
          { shipments: batch.length, err: (error as Error).message },
          'the shop refused a batch; sending it order by order',
        )
        return oneByOne(batch)
      }
    }
    return deps.shipments.notifyShopOfDue(send, { batchSize: deps.batchSize, signal })
  }
}
