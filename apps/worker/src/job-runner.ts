import { setTimeout as sleep } from 'node:timers/promises'
import { JOBS_QUEUE, type JobRuns, type ScheduleDefinition, type ScheduleRegistry, tickOf } from '@tms/jobs'
import type { LockService } from '@tms/locks'
import type { Logger } from '@tms/logging'
import { type Job, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import type { JobHandler } from './handlers/job-context.js'

export interface JobRunnerOptions {
  connection: Redis
  /** BullMQ key prefix (`<app prefix>bull`). */
  prefix: string
  table: ReadonlyArray<ScheduleDefinition>
  handlers: Record<string, JobHandler>
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

  constructor(options: JobRunnerOptions) {
    this.#options = options
    this.#schedules = new Map(options.table.map((s) => [s.id, s]))
    this.#worker = new Worker(JOBS_QUEUE, (job) => this.#process(job), {
      connection: options.connection,
      prefix: options.prefix,
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
    const handler = handlers[scheduleId]
    if (!handler) {
      // A job of a schedule this (older) version does not know: fail the attempt, so a retry
      // can land on an instance that does.
      throw new Error(`this worker (version ${this.#options.version}) has no handler for job "${scheduleId}"`)
    }
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
        if ((error as Error).name !== 'LockTimeoutError') throw error
        await this.#recordSkip(job, scheduleId, 'the previous run of this job is still going')
        logger.warn({ scheduleId, jobId: job.id }, 'job skipped: its previous run is still going')
        return { skipped: 'previous run still going' }
      })
    return outcome
  }

  async #runRecorded(
    job: Job,
    handler: JobHandler,
    scheduleId: string,
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
        data: (job.data ?? {}) as Record<string, unknown>,
        logger: runLogger,
      })
      work.catch(() => {})
      const result = (await Promise.race([work, aborted])) ?? {}
      await runs.finish(run, 'succeeded', { result })
      runLogger.info({ ms: Date.now() - started, result }, 'job succeeded')
      return result
    } catch (error) {
      const shutdown = controller.signal.reason instanceof RunAborted
      const message = (error as Error).message
      await runs.finish(run, shutdown ? 'aborted' : 'failed', { error: message }).catch((e: unknown) => {
        runLogger.error({ err: (e as Error).message }, 'could not record the run')
      })
      runLogger.warn({ ms: Date.now() - started, err: message, outcome: shutdown ? 'aborted' : 'failed' }, 'job did not succeed')
      throw error
    } finally {
      clearTimeout(timer)
      lockSignal.removeEventListener('abort', onLockLost)
      this.#active.delete(job.id!)
    }
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
