import type { Logger } from '@tms/logging'

export interface JobContext {
  /** Fires on max run time, shutdown past its budget, or a lost run lock: stop soon. */
  signal: AbortSignal
  jobId: string
  scheduleId: string
  /** The scheduled slot (ms), null for runs asked for on demand. */
  tick: number | null
  attempt: number
  /** What the job was queued with (per-item jobs such as notify-shop). */
  data: Record<string, unknown>
  logger: Logger
}

/** A job's work. What it returns is stored with the run (e.g. `{ created: 12 }`). */
export type JobHandler = (context: JobContext) => Promise<Record<string, unknown> | undefined>
