import type { LockService } from '@tms/locks'
import type { Redis } from 'ioredis'
import type { JobName, JobsQueue } from './job-data.js'
import { describeSchedule, type ScheduleDefinition } from './schedule.js'

/** What the registry remembers about a schedule BullMQ runs. */
export interface ScheduleRecord {
  id: string
  every?: number | undefined
  pattern?: string | undefined
  tz?: string | undefined
  maxRunTimeMs: number
  /** The schedule table version that wrote it. */
  version: number
  writtenBy: string
  writtenAt: string
}

export interface SyncReport {
  upserted: string[]
  unchanged: string[]
  /** Written by a newer table version: left alone. */
  keptNewer: string[]
  removed: string[]
}

export interface RegistryLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/**
 * The schedule table as it is live in Redis, next to BullMQ's job schedulers.
 *
 * Every worker instance syncs its table at start, one instance at a time (a service lock).
 * A schedule is written only when it differs from what is stored, and never when a newer
 * table version wrote it: an old instance that restarts late in a rolling deploy (a crash
 * loop, a reschedule) cannot put the old schedule back, and BullMQ's upsert races between
 * instances (taskforcesh/bullmq#2988, #3085, #3381) do not arise when nothing changes. Schedules no
 * longer in the table are removed, unless a newer version wrote them.
 */
export class ScheduleRegistry {
  readonly #records: string
  readonly #paused: string

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.#records = `${prefix}jobs:schedules`
    this.#paused = `${prefix}jobs:paused`
  }

  async records(): Promise<Map<string, ScheduleRecord>> {
    const raw = await this.redis.hgetall(this.#records)
    return new Map(Object.entries(raw).map(([id, json]) => [id, JSON.parse(json) as ScheduleRecord]))
  }

  async sync(options: {
    queue: JobsQueue
    locks: LockService
    table: ReadonlyArray<ScheduleDefinition>
    version: number
    instance: string
    logger?: RegistryLogger
  }): Promise<SyncReport> {
    const { queue, table, version, instance, logger } = options
    return options.locks.runWithLock(
      'job-schedules',
      async () => {
        const report: SyncReport = { upserted: [], unchanged: [], keptNewer: [], removed: [] }
        const stored = await this.records()
        const live = new Set((await queue.getJobSchedulers(0, -1)).map((s) => s.key))
        for (const schedule of table) {
          const record = stored.get(schedule.id)
          if (record && record.version > version) {
            report.keptNewer.push(schedule.id)
            logger?.info(
              { schedule: schedule.id, storedVersion: record.version, ours: version },
              'schedule written by a newer version; keeping it',
            )
            continue
          }
          if (record && live.has(schedule.id) && sameSchedule(record, schedule, version)) {
            report.unchanged.push(schedule.id)
            continue
          }
          await upsertWithRetry(queue, schedule, logger)
          const written: ScheduleRecord = {
            id: schedule.id,
            every: schedule.every,
            pattern: schedule.pattern,
            tz: schedule.tz,
            maxRunTimeMs: schedule.maxRunTimeMs,
            version,
            writtenBy: instance,
            writtenAt: new Date().toISOString(),
          }
          await this.redis.hset(this.#records, schedule.id, JSON.stringify(written))
          report.upserted.push(schedule.id)
          logger?.info({ schedule: schedule.id, version, interval: describeSchedule(schedule) }, 'schedule written')
        }
        const wanted = new Set(table.map((s) => s.id))
        for (const id of new Set([...live, ...stored.keys()])) {
          if (wanted.has(id)) continue
          const record = stored.get(id)
          if (record && record.version > version) {
            report.keptNewer.push(id)
            continue
          }
          await queue.removeJobScheduler(id)
          await this.redis.hdel(this.#records, id)
          report.removed.push(id)
          logger?.info({ schedule: id, version }, 'schedule no longer in the table; removed')
        }
        return report
      },
      { ttlMs: 30_000, acquireTimeoutMs: 60_000 },
    )
  }

  async pause(id: string): Promise<void> {
    await this.redis.sadd(this.#paused, id)
  }

  async resume(id: string): Promise<void> {
    await this.redis.srem(this.#paused, id)
  }

  async isPaused(id: string): Promise<boolean> {
    return (await this.redis.sismember(this.#paused, id)) === 1
  }

  async pausedIds(): Promise<Set<string>> {
    return new Set(await this.redis.smembers(this.#paused))
  }
}

function sameSchedule(record: ScheduleRecord, schedule: ScheduleDefinition, version: number): boolean {
  return (
    record.version === version &&
    record.every === schedule.every &&
    record.pattern === schedule.pattern &&
    record.tz === schedule.tz &&
    record.maxRunTimeMs === schedule.maxRunTimeMs
  )
}

/**
 * BullMQ can refuse an upsert that collides with a job a worker is scheduling at that moment
 * ("job ID already exists" for cron patterns, busy slots for intervals). That is a race, not
 * a fault: try again shortly, a few times, then report it without crashing the instance.
 */
async function upsertWithRetry(queue: JobsQueue, schedule: ScheduleDefinition, logger?: RegistryLogger): Promise<void> {
  const repeat =
    schedule.every !== undefined
      ? { every: schedule.every }
      : { pattern: schedule.pattern!, ...(schedule.tz ? { tz: schedule.tz } : {}) }
  for (let attempt = 1; ; attempt++) {
    try {
      // A schedule's id is its jobs' name (tables of tests name schedules of their own).
      const name = schedule.id as JobName
      await queue.upsertJobScheduler(name, repeat, {
        name,
        data: {},
        opts: {
          attempts: schedule.attempts ?? 3,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: { count: 1000 },
          removeOnFail: { count: 1000 },
        },
      })
      return
    } catch (error) {
      if (attempt >= 5) throw error
      logger?.warn({ schedule: schedule.id, attempt, err: (error as Error).message }, 'schedule upsert collided; retrying')
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt))
    }
  }
}
