import { defineErrors, TabledError } from '@tms/errors'
import type { JobsOptions } from 'bullmq'
import type { JobData, JobName, JobsQueue, SCHEDULED_JOBS } from './job-data.js'
import type { JobRuns, RunView } from './job-runs.js'
import { NOTIFY_SHOP_CANCELLED_JOB, NOTIFY_SHOP_JOB, type NotifyShopCancelledData, type NotifyShopData } from './schedule.js'
import type { ScheduleRegistry } from './schedule-registry.js'

export interface JobSummary {
  id: string
  every: number | null
  pattern: string | null
  tz: string | null
  maxRunTimeMs: number
  paused: boolean
  /** When BullMQ will next run it (null when paused or unknown). */
  nextRunAt: string | null
  running: { instance: string; startedAt: string; jobId: string } | null
  lastRun: Pick<RunView, 'startedAt' | 'endedAt' | 'durationMs' | 'outcome' | 'instance' | 'error' | 'tick'> | null
  version: number
}

/** One notify-shop job per shipment: queueing it again while BullMQ knows it adds nothing. */
const notifyShopJobId = (shipmentId: string) => `${NOTIFY_SHOP_JOB}-${shipmentId}`

/** Every refusal of the jobs' administration. */
export const JOB_ERRORS = defineErrors({
  /** No schedule of this name (the table in the worker's code). */
  UNKNOWN_SCHEDULE: { status: 404 },
})

export class UnknownScheduleError extends TabledError<keyof typeof JOB_ERRORS> {
  override name = 'UnknownScheduleError'
  constructor(readonly id: string) {
    super('UNKNOWN_SCHEDULE', JOB_ERRORS, `no job schedule "${id}"`)
  }
}

/** What operators do with jobs, through the API or the CLI. */
export class JobsAdmin {
  /** Queues `name` with its data: JobData ties the two together, as the worker's handlers read them. */
  #add<Name extends JobName>(name: Name, data: JobData[Name], options: JobsOptions) {
    return this.queue.add(name, data, options)
  }

  constructor(
    private readonly queue: JobsQueue,
    private readonly registry: ScheduleRegistry,
    private readonly runs: JobRuns,
  ) {}

  async list(): Promise<JobSummary[]> {
    const [records, paused, schedulers] = await Promise.all([
      this.registry.records(),
      this.registry.pausedIds(),
      this.queue.getJobSchedulers(0, -1),
    ])
    const next = new Map(schedulers.map((s) => [s.key, s.next]))
    return Promise.all(
      [...records.values()]
        .sort((a, b) => a.id.localeCompare(b.id))
        .map(async (record) => {
          const recent = await this.runs.recent(record.id, 20)
          const running = recent.find((r) => r.outcome === 'running')
          const last = recent.find((r) => r.outcome !== 'running')
          const nextAt = next.get(record.id)
          return {
            id: record.id,
            every: record.every ?? null,
            pattern: record.pattern ?? null,
            tz: record.tz ?? null,
            maxRunTimeMs: record.maxRunTimeMs,
            paused: paused.has(record.id),
            nextRunAt: paused.has(record.id) || !nextAt ? null : new Date(nextAt).toISOString(),
            running: running ? { instance: running.instance, startedAt: running.startedAt, jobId: running.jobId } : null,
            lastRun: last
              ? {
                  startedAt: last.startedAt,
                  endedAt: last.endedAt,
                  durationMs: last.durationMs,
                  outcome: last.outcome,
                  instance: last.instance,
                  error: last.error,
                  tick: last.tick,
                }
              : null,
            version: record.version,
          }
        }),
    )
  }

  async recentRuns(id: string, limit: number): Promise<RunView[]> {
    await this.#known(id)
    return this.runs.recent(id, limit)
  }

  async pause(id: string): Promise<void> {
    await this.#known(id)
    await this.registry.pause(id)
  }

  async resume(id: string): Promise<void> {
    await this.#known(id)
    await this.registry.resume(id)
  }

  /**
   * Runs the job now, on exactly one worker. While such a run is waiting or running, asking
   * again returns the same job instead of adding another.
   */
  async runNow(id: string): Promise<{ jobId: string }> {
    await this.#known(id)
    // Any schedule the registry knows, also one a newer release's workers added: this version
    // need not know its name to queue it, and `{ trigger }` is every schedule's data.
    const job = await this.#add(
      id as (typeof SCHEDULED_JOBS)[keyof typeof SCHEDULED_JOBS],
      { trigger: 'on-demand' },
      {
        deduplication: { id: `${id}:on-demand` },
        attempts: 3,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 1000 },
      },
    )
    return { jobId: job.id! }
  }

  /**
   * Queues telling the shop a shipment left. The job id is the shipment's, so queueing it
   * again (a retry, housekeeping) while it is still known to BullMQ adds nothing.
   */
  async notifyShop(data: NotifyShopData): Promise<{ jobId: string }> {
    const job = await this.#add(NOTIFY_SHOP_JOB, data, {
      jobId: notifyShopJobId(data.shipmentId),
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { count: 10_000 },
      removeOnFail: { count: 10_000 },
    })
    return { jobId: job.id! }
  }

  /** Queues telling the shop an order was cancelled; one job per request, like notifyShop. */
  async notifyShopCancelled(data: NotifyShopCancelledData): Promise<{ jobId: string }> {
    const job = await this.#add(NOTIFY_SHOP_CANCELLED_JOB, data, {
      jobId: `${NOTIFY_SHOP_CANCELLED_JOB}-${data.requestId}`,
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { count: 10_000 },
      removeOnFail: { count: 10_000 },
    })
    return { jobId: job.id! }
  }

  /**
   * For a shipment the shop has not heard of: queues its notification again, whatever became of
   * the first. `notifyShop` alone adds nothing while BullMQ still keeps a job of that id, and it
   * keeps failed jobs: one that used up its attempts (the shop was down) would never run again.
   *  - no job: queued anew;
   *  - failed, or completed without the shipment being marked (the mark failed): run again with
   *    fresh attempts;
   *  - waiting, delayed or running: left alone, it is still on its way.
   */
  async resendShopNotification(data: NotifyShopData): Promise<'queued' | 'retried' | 'already-queued'> {
    return this.#resend(notifyShopJobId(data.shipmentId), () => this.notifyShop(data))
  }

  /** As resendShopNotification, for an order's cancellation. */
  async resendShopCancellation(data: NotifyShopCancelledData): Promise<'queued' | 'retried' | 'already-queued'> {
    return this.#resend(`${NOTIFY_SHOP_CANCELLED_JOB}-${data.requestId}`, () => this.notifyShopCancelled(data))
  }

  async #resend(jobId: string, add: () => Promise<unknown>): Promise<'queued' | 'retried' | 'already-queued'> {
    const job = await this.queue.getJob(jobId)
    if (!job) {
      await add()
      return 'queued'
    }
    const state = await job.getState()
    if (state !== 'failed' && state !== 'completed') return 'already-queued'
    try {
      await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true })
      return 'retried'
    } catch (error) {
      // Another process moved it first (a retry, or BullMQ removing it): it is on its way again,
      // or gone, in which case the next housekeeping run queues it anew.
      if ((await job.getState()) !== state) return 'already-queued'
      throw error
    }
  }

  async #known(id: string): Promise<void> {
    if (!(await this.registry.records()).has(id)) throw new UnknownScheduleError(id)
  }
}
