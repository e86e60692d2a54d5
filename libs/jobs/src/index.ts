export { Broadcast, type BroadcastMessage } from './broadcast.js'
export { isJobName, type JobData, type JobName, type JobsQueue, SCHEDULED_JOBS, type ScheduledRunData } from './job-data.js'
export { type JobRun, JobRuns, jobRuns, type RunOutcome, type RunView } from './job-runs.js'
export { JOB_ERRORS, type JobSummary, JobsAdmin, UnknownScheduleError } from './jobs-admin.js'
export { openJobsQueue } from './jobs-queue.js'
export {
  describeSchedule,
  JOBS_QUEUE,
  jobsQueuePrefix,
  NOTIFY_SHOP_CANCELLED_JOB,
  NOTIFY_SHOP_JOB,
  type NotifyShopCancelledData,
  type NotifyShopData,
  type ScheduleDefinition,
  tickOf,
} from './schedule.js'
export { type RegistryLogger, type ScheduleRecord, ScheduleRegistry, type SyncReport } from './schedule-registry.js'
export { checkTicks, type TickReport } from './tick-report.js'
