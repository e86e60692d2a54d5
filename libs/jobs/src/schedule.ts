/** One line of the schedule table: what runs, how often, for how long at most. */
export interface ScheduleDefinition {
  id: string
  /** Milliseconds between ticks; or a cron `pattern` (with `tz`). */
  every?: number
  pattern?: string
  tz?: string
  /** The longest a run may hold its schedule: past it the run's AbortSignal fires and the run fails. */
  maxRunTimeMs: number
  /** Attempts per tick (a failed attempt is retried with backoff before the next tick). */
  attempts?: number
}

/** The BullMQ queue all TMS jobs go through (competing consumers: one worker per job). */
export const JOBS_QUEUE = 'tms-jobs'

/** BullMQ's key prefix under the app's: every process that queues or works jobs must use it. */
export const jobsQueuePrefix = (redisKeyPrefix: string) => `${redisKeyPrefix}bull`

/** How a schedule is written in the registry, to compare with what an instance wants. */
export function describeSchedule(schedule: ScheduleDefinition): string {
  return schedule.every !== undefined
    ? `every ${schedule.every} ms`
    : `cron ${schedule.pattern}${schedule.tz ? ` (${schedule.tz})` : ''}`
}

/** The scheduled slot a BullMQ scheduler job belongs to: `repeat:<schedule>:<millis>`. */
export function tickOf(jobId: string | undefined): number | null {
  const match = /^repeat:.+:(\d+)$/.exec(jobId ?? '')
  return match ? Number(match[1]) : null
}

/**
 * Jobs that are not on a schedule: one per piece of work, queued by whoever has it, taken by
 * exactly one worker, many at once.
 */
export const NOTIFY_SHOP_JOB = 'notify-shop' as const
/** Per cancelled shipment request: tells the web shop the order will not ship. */
export const NOTIFY_SHOP_CANCELLED_JOB = 'notify-shop-cancelled' as const

export interface NotifyShopCancelledData {
  requestId: string
  orderId: string
  reason: string
}

export interface NotifyShopData {
  shipmentId: string
  orderId: string
  trackingNumber: string
}
