import { setTimeout as sleep } from 'node:timers/promises'
import {
  isJobName,
  JOBS_QUEUE,
  type JobData,
  type JobName,
  type JobRuns,
  jobsQueuePrefix,
  type ScheduleDefinition,
  type ScheduleRegistry,
  tickOf,
} from '@tms/jobs'
import { type LockService, LockTimeoutError } from '@tms/locks'
import type { Logger } from '@tms/logging'
import { VersionConflictError } from '@tms/storage'
import { type Job, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import type { JobHandler, JobHandlers } from './handlers/job-context.js'

export interface JobRunnerOptions {
  connection: Redis
  /** The app's Redis key prefix; the jobs queue's own is derived from it (jobsQueuePrefix). */
  redisKeyPrefix: string
  table: ReadonlyArray<ScheduleDefinition>
  handlers: JobHandlers
  registry: ScheduleRegistry
  runs: JobRuns
  locks: LockService
  logger: Logger
  instance: string
  version: string
  concurrency: number
  lockMs: number
  stalledCheckMs: number
}

/** 1 for the first attempt; a retry, or a re-run after the worker died, counts up. */
const attemptOf = (job: Job) => Math.max(job.attemptsStarted ?? 0, job.attemptsMade + 1)

/** The last wait between tries to record a run's end (1 s, 2 s, … 32 s: about a minute in all). */
const RECORD_RETRY_MAX_MS = 32_000

class RunAborted extends Error {
  override name = 'RunAborted'
}

/**
 * BullMQ's Worker, with what operators need around each run: paused schedules are skipped;
 * one run per schedule at a time (a tick that arrives while the previous run still goes is
 * recorded as skipped); a run past its maximum run time is aborted and fails; every attempt
 * is recorded; and the shutdown waits a bounded time, then aborts what still runs.
 */
export class JobRunner {
  readonly #options: JobRunnerOptions
  readonly #worker: Worker
  readonly #schedules: Map<string, ScheduleDefinition>
  readonly #active = new Map<string, AbortController>()
  /** Ends of runs still being recorded after a database outage. */
  readonly #recordings = new Set<Promise<void>>()

  constructor(options: JobRunnerOptions) {
    this.#options = options
    this.#schedules = new Map(options.table.map((s) => [s.id, s]))
    this.#worker = new Worker(JOBS_QUEUE, (job) => this.#process(job), {
      connection: options.connection,
      prefix: jobsQueuePrefix(options.redisKeyPrefix),
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: options.stalledCheckMs,
      maxStalledCount: 1,
      autorun: false,
    })
    this.#worker.on('error', (error) => options.logger.warn({ err: error.message }, 'job worker error'))
    this.#worker.on('stalled', (jobId) => options.logger.warn({ jobId }, 'a job lost its worker; it runs again'))
  }

  start(): void {
    void this.#worker.run().catch((error: unknown) => this.#options.logger.error({ err: error }, 'job worker stopped'))
  }

  get running(): boolean {
    return this.#worker.isRunning()
  }

  get activeRuns(): number {
    return this.#active.size
  }

  /** Stops taking jobs; lets running ones finish for up to `timeoutMs`, then aborts them. */
  async stop(timeoutMs: number): Promise<void> {
    const closing = this.#worker.close()
    const finished = await Promise.race([closing.then(() => true), sleep(timeoutMs).then(() => false)])
    // Records still being retried get a few seconds more; past that, housekeeping marks them abandoned.
    await Promise.race([Promise.all(this.#recordings), sleep(5000)])
    if (finished) return
    this.#options.logger.warn(
      { running: this.#active.size, timeoutMs },
      'jobs still running at the shutdown deadline; aborting them',
    )
    for (const controller of this.#active.values()) controller.abort(new RunAborted('the worker is shutting down'))
    await Promise.race([closing, sleep(5000)])
    await this.#worker.close(true)
  }

  async #process(job: Job): Promise<unknown> {
    const { handlers, registry, locks, logger } = this.#options
    const scheduleId = job.name
    if (!isJobName(scheduleId)) {
      // A job of a schedule this (older) version does not know: fail the attempt, so a retry
      // can land on an instance that does.
      throw new Error(`this worker (version ${this.#options.version}) has no handler for job "${scheduleId}"`)
    }
    // Where a job's data enters typed: BullMQ hands back what was queued under this name
    // (JobsAdmin and the schedules queue each name with its JobData), so its handler takes it.
    const handler = handlers[scheduleId] as JobHandler
    // Paused: scheduled ticks are skipped. A run an operator asks for explicitly still runs.
    if (tickOf(job.id) !== null && (await registry.isPaused(scheduleId))) return { skipped: 'paused' }
    const schedule = this.#schedules.get(scheduleId)
    // Per-item jobs (not on the schedule table) run side by side, as many as the concurrency.
    if (!schedule) return this.#runRecorded(job, handler, scheduleId, 30_000, new AbortController().signal)
    const maxRunTimeMs = schedule.maxRunTimeMs
    const guardTtl = Math.max(1000, Math.floor(this.#options.lockMs * 0.6))
    // Shorter than BullMQ's job lock: after a SIGKILL this guard lapses before BullMQ hands the
    // job to another worker, so the rerun is not mistaken for an overlap.
    const outcome = await locks
      .runWithLock(`job:${scheduleId}`, ({ signal }) => this.#runRecorded(job, handler, scheduleId, maxRunTimeMs, signal), {
        ttlMs: guardTtl,
        acquireTimeoutMs: Math.min(2000, maxRunTimeMs),
      })
      .catch(async (error: unknown) => {
        if (!(error instanceof LockTimeoutError)) throw error
        await this.#recordSkip(job, scheduleId, 'the previous run of this job is still going')
        logger.warn({ scheduleId, jobId: job.id }, 'job skipped: its previous run is still going')
        return { skipped: 'previous run still going' }
      })
    return outcome
  }

  async #runRecorded(
    job: Job,
    handler: JobHandler,
    scheduleId: JobName,
    maxRunTimeMs: number,
    lockSignal: AbortSignal,
  ): Promise<unknown> {
    const { runs, logger, instance, version } = this.#options
    const tick = tickOf(job.id)
    const run = await runs.start({
      scheduleId,
      jobId: job.id!,
      tick: tick === null ? null : new Date(tick).toISOString(),
      trigger: tick === null ? 'on-demand' : 'schedule',
      attempt: attemptOf(job),
      instance,
      version,
      startedAt: new Date().toISOString(),
    })
    const controller = new AbortController()
    const timer = setTimeout(
      () => controller.abort(new Error(`exceeded its maximum run time of ${maxRunTimeMs} ms`)),
      maxRunTimeMs,
    )
    const onLockLost = () => controller.abort(lockSignal.reason)
    lockSignal.addEventListener('abort', onLockLost, { once: true })
    this.#active.set(job.id!, controller)
    const runLogger = logger.child({ scheduleId, jobId: job.id, attempt: attemptOf(job) })
    const started = Date.now()
    let result: Record<string, unknown>
    try {
      const aborted = new Promise<never>((_, reject) =>
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }),
      )
      aborted.catch(() => {})
      const work = handler({
        signal: controller.signal,
        jobId: job.id!,
        scheduleId,
        tick,
        attempt: attemptOf(job),
        data: (job.data ?? {}) as JobData[JobName],
        logger: runLogger,
      })
      work.catch(() => {})
      result = (await Promise.race([work, aborted])) ?? {}
    } catch (error) {
      const shutdown = controller.signal.reason instanceof RunAborted
      const message = (error as Error).message
      await this.#recordEnd(run, shutdown ? 'aborted' : 'failed', { error: message }, runLogger)
      runLogger.warn({ ms: Date.now() - started, err: message, outcome: shutdown ? 'aborted' : 'failed' }, 'job did not succeed')
      throw error
    } finally {
      clearTimeout(timer)
      lockSignal.removeEventListener('abort', onLockLost)
      this.#active.delete(job.id!)
    }
    // The work is done whether or not its record can be written now.
    await this.#recordEnd(run, 'succeeded', { result }, runLogger)
    runLogger.info({ ms: Date.now() - started, result }, 'job succeeded')
    return result
  }

  /**
   * Records how a run ended. If the database is away (the outage that may have failed the run),
   * the record is tried again in the background, 1 s doubling to 32 s, so that no run stays
   * "running" after the database is back; the job itself does not wait for it.
   */
  async #recordEnd(
    run: Awaited<ReturnType<JobRuns['start']>>,
    outcome: 'succeeded' | 'failed' | 'aborted',
    details: { error?: string; result?: Record<string, unknown> },
    logger: Logger,
  ): Promise<void> {
    const attempt = async () => {
      try {
        await this.#options.runs.finish(run, outcome, details)
        return true
      } catch (error) {
        // An earlier try did land (its answer was lost): the record is written.
        if (error instanceof VersionConflictError) return true
        logger.warn({ err: (error as Error).message, outcome }, 'could not record the end of the run; trying again')
        return false
      }
    }
    if (await attempt()) return
    const retrying = (async () => {
      for (let delay = 1000; delay <= RECORD_RETRY_MAX_MS; delay *= 2) {
        await sleep(delay)
        if (await attempt()) return
      }
      logger.error({ outcome }, 'gave up recording the end of the run; housekeeping will mark it abandoned')
    })()
    this.#recordings.add(retrying)
    void retrying.finally(() => this.#recordings.delete(retrying))
  }

  async #recordSkip(job: Job, scheduleId: string, reason: string): Promise<void> {
    const tick = tickOf(job.id)
    const run = await this.#options.runs.start({
      scheduleId,
      jobId: job.id!,
      tick: tick === null ? null : new Date(tick).toISOString(),
      trigger: tick === null ? 'on-demand' : 'schedule',
      attempt: attemptOf(job),
      instance: this.#options.instance,
      version: this.#options.version,
      startedAt: new Date().toISOString(),
    })
    await this.#options.runs.finish(run, 'skipped', { error: reason })
  }
}
