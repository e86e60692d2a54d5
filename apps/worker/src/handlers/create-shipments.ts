import type { SCHEDULED_JOBS } from '@tms/jobs'
import { LockBusyError } from '@tms/locks'
import type { Shipments } from '@tms/warehouse'
import type { JobHandler } from './job-context.js'

/**
 * create-shipments: shipments for ready requests, under the same cluster-wide service lock as
 * POST /shipments/bulk, so a manual bulk run and this job never overlap.
 */
export function createShipments(deps: { shipments: Shipments }): JobHandler<typeof SCHEDULED_JOBS.createShipments> {
  return async () => {
    try {
      return await deps.shipments.createInBulk()
    } catch (error) {
      if (error instanceof LockBusyError) return { created: 0, skipped: 'another bulk creation is running' }
      throw error
    }
  }
}
