import { SCHEDULED_JOBS, type ScheduleDefinition } from '@tms/jobs'
import type { WorkerConfig } from './config.js'

/**
 * Bump when the table changes in a way older instances must not undo (a job renamed, removed,
 * or its interval changed in code). Registries keep what the highest version wrote.
 * 2: notify-shipped added (version 1 workers would remove its schedule on start).
 */
export const SCHEDULE_TABLE_VERSION = 2

/** The schedule table: what runs, how often, for how long at most. Intervals come from the environment. */
export function scheduleTable(config: WorkerConfig): ScheduleDefinition[] {
  return [
    {
      id: SCHEDULED_JOBS.syncOrders,
      every: config.JOB_SYNC_ORDERS_EVERY,
      maxRunTimeMs: Math.max(10_000, Math.min(config.JOB_SYNC_ORDERS_EVERY * 0.8, 20 * 60_000)),
    },
    {
      id: SCHEDULED_JOBS.createShipments,
      every: config.JOB_CREATE_SHIPMENTS_EVERY,
      maxRunTimeMs: Math.max(10_000, config.JOB_CREATE_SHIPMENTS_EVERY * 0.8),
    },
    {
      id: SCHEDULED_JOBS.notifyShipped,
      every: config.JOB_NOTIFY_SHIPPED_EVERY,
      maxRunTimeMs: Math.max(10_000, config.JOB_NOTIFY_SHIPPED_EVERY * 0.8),
    },
    {
      id: SCHEDULED_JOBS.housekeeping,
      every: config.JOB_HOUSEKEEPING_EVERY,
      maxRunTimeMs: Math.max(10_000, config.JOB_HOUSEKEEPING_EVERY * 0.8),
    },
  ]
}
