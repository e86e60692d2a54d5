import type { JobRuns, JobsAdmin, SCHEDULED_JOBS } from '@tms/jobs'
import type { LockService } from '@tms/locks'
import { type RefurbishmentBatches, releaseStaleClaims, type ShipmentRequests, type Shipments } from '@tms/warehouse'
import type { JobHandler } from './job-context.js'

/**
 * housekeeping: what nobody else cleans up.
 *  - claims on shipments known to be no longer PENDING (packed by other means, or gone);
 *  - runs left "running" by a process that was killed (BullMQ runs the job again elsewhere);
 *  - run records older than the retention;
 *  - shipped shipments, and cancelled orders, the shop has not been told about;
 *  - refurbishment batches left SHIPPING by a process that died mid-ship: completed.
 */
export function housekeeping(deps: {
  locks: LockService
  shipments: Shipments
  requests: ShipmentRequests
  batches: RefurbishmentBatches
  runs: JobRuns
  jobs: JobsAdmin
  retentionDays: number
  staleRunMs: number
  /** How long a shipped shipment may wait for its notification before it is sent again. */
  notificationGraceMs: number
}): JobHandler<typeof SCHEDULED_JOBS.housekeeping> {
  return async ({ signal }) => {
    const claims = await releaseStaleClaims(deps, signal)
    const abandonedRuns = await deps.runs.abandonStale(deps.staleRunMs)
    const trimmedRuns = await deps.runs.trim(deps.retentionDays)
    // Shipped, but the shop was never told (the queueing failed, or the job ran out of attempts).
    let shopNotificationsRequeued = 0
    const shippedBefore = new Date(Date.now() - deps.notificationGraceMs)
    for (const shipment of await deps.shipments.awaitingShopNotification(shippedBefore)) {
      signal.throwIfAborted()
      const outcome = await deps.jobs.resendShopNotification({
        shipmentId: shipment.id,
        orderId: shipment.orderId,
        trackingNumber: shipment.trackingNumber!,
      })
      if (outcome !== 'already-queued') shopNotificationsRequeued++
    }
    let cancellationsRequeued = 0
    for (const request of await deps.requests.awaitingCancellationNotice(shippedBefore)) {
      signal.throwIfAborted()
      const outcome = await deps.jobs.resendShopCancellation({
        requestId: request.id,
        orderId: request.orderId,
        reason: request.cancellation!.reason,
      })
      if (outcome !== 'already-queued') cancellationsRequeued++
    }
    // A ship takes seconds; one still SHIPPING after the grace was cut short.
    const batchesCompleted = await deps.batches.completeShipping(deps.notificationGraceMs)
    return {
      staleClaims: claims.released,
      claimsUnchecked: claims.unchecked,
      abandonedRuns,
      trimmedRuns,
      shopNotificationsRequeued,
      cancellationsRequeued,
      batchesCompleted,
    }
  }
}
