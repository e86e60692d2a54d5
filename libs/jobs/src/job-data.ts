import type { Queue } from 'bullmq'
import { NOTIFY_SHOP_CANCELLED_JOB, NOTIFY_SHOP_JOB, type NotifyShopCancelledData, type NotifyShopData } from './schedule.js'

/**
 * The jobs on the schedule table, by the names every process knows them by: the worker runs
 * them, the API and the CLI list, pause and run them.
 */
export const SCHEDULED_JOBS = {
  syncOrders: 'sync-orders',
  createShipments: 'create-shipments',
  notifyShipped: 'notify-shipped',
  housekeeping: 'housekeeping',
} as const

/** A scheduled job is queued with nothing but, when an operator asks for it, that it was asked for. */
export interface ScheduledRunData {
  trigger?: 'on-demand'
}

/** What each job is queued with, by its name: the worker's handlers are typed from it, none casts. */
export interface JobData {
  [SCHEDULED_JOBS.syncOrders]: ScheduledRunData
  [SCHEDULED_JOBS.createShipments]: ScheduledRunData
  [SCHEDULED_JOBS.notifyShipped]: ScheduledRunData
  [SCHEDULED_JOBS.housekeeping]: ScheduledRunData
  [NOTIFY_SHOP_JOB]: NotifyShopData
  [NOTIFY_SHOP_CANCELLED_JOB]: NotifyShopCancelledData
}

export type JobName = keyof JobData

const NAMES: ReadonlySet<string> = new Set<JobName>([
  ...Object.values(SCHEDULED_JOBS),
  NOTIFY_SHOP_JOB,
  NOTIFY_SHOP_CANCELLED_JOB,
])

/** A name read back from the queue is one this version knows (a newer release may have added one). */
export const isJobName = (name: string): name is JobName => NAMES.has(name)

/** The jobs queue, typed by JobData (BullMQ's generics): what goes in under a name is that name's data. */
export type JobsQueue = Queue<JobData[JobName], unknown, JobName>
