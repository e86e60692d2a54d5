import type { JobData, JobName } from '@tms/jobs'
import type { Logger } from '@tms/logging'

export interface JobContext<Name extends JobName = JobName> {
  /** Fires on max run time, shutdown past its budget, or a lost run lock: stop soon. */
  signal: AbortSignal
  jobId: string
  scheduleId: Name
  /** The scheduled slot (ms), null for runs asked for on demand. */
  tick: number | null
  attempt: number
  /** What the job was queued with (per-item jobs such as notify-shop), typed by its name. */
  data: JobData[Name]
  logger: Logger
}

/** A job's work. What it returns is stored with the run (e.g. `{ created: 12 }`). */
export type JobHandler<Name extends JobName = JobName> = (
  context: JobContext<Name>,
) => Promise<Record<string, unknown> | undefined>

/** One handler for every job this version knows: a job added to JobData without one does not compile. */
export type JobHandlers = { [Name in JobName]: JobHandler<Name> }
