import { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import type { JobsQueue } from './job-data.js'
import { JOBS_QUEUE, jobsQueuePrefix } from './schedule.js'

/**
 * The jobs queue as every process opens it (the API and CLI queue into it, workers take from
 * it): one name, one prefix. `connection` must allow blocking commands (maxRetriesPerRequest
 * null, the `blocking` role of @tms/redis).
 */
export function openJobsQueue(connection: Redis, redisKeyPrefix: string): JobsQueue {
  return new Queue(JOBS_QUEUE, { connection, prefix: jobsQueuePrefix(redisKeyPrefix) }) as JobsQueue
}
