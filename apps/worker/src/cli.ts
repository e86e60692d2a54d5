/**
 * npm run jobs -- list | runs <id> [--limit N] [--json] | pause <id> | resume <id> | run <id>
 *
 * Talks to the same Redis and database as the workers (REDIS_URL, REDIS_KEY_PREFIX, DATABASE_URL).
 */
import { parseArgs } from 'node:util'
import { databaseEnv, loadConfigOrExit, redisEnv } from '@tms/config'
import { JobRuns, JobsAdmin, openJobsQueue, ScheduleRegistry, UnknownScheduleError } from '@tms/jobs'
import { closeRedis, connectRedis, createRedis } from '@tms/redis'
import { openStorage } from '@tms/storage'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { json: { type: 'boolean', default: false }, limit: { type: 'string', default: '20' } },
})
const [command, id] = positionals
const usage = 'usage: npm run jobs -- list | runs <id> [--limit N] [--json] | pause <id> | resume <id> | run <id>'
if (!command || (command !== 'list' && !id)) {
  console.error(usage)
  process.exit(2)
}

const config = loadConfigOrExit('jobs-cli', () => ({ ...redisEnv(), ...databaseEnv() }))
const redis = createRedis(config.REDIS_URL, { connectionName: 'jobs-cli', role: 'blocking' })
const storage = openStorage(config.DATABASE_URL)
const queue = openJobsQueue(redis, config.REDIS_KEY_PREFIX)
const admin = new JobsAdmin(queue, new ScheduleRegistry(redis, config.REDIS_KEY_PREFIX), new JobRuns(storage))

const time = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-')
const table = (rows: string[][]) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n')
}

let exitCode = 0
try {
  await connectRedis(redis)
  switch (command) {
    case 'list': {
      const jobs = await admin.list()
      if (values.json) {
        console.log(JSON.stringify(jobs, null, 2))
        break
      }
      console.log(
        table([
          ['JOB', 'INTERVAL', 'PAUSED', 'NEXT RUN', 'RUNNING ON', 'LAST RUN', 'OUTCOME', 'MS', 'ERROR'],
          ...jobs.map((j) => [
            j.id,
            j.every !== null ? `${j.every / 1000}s` : `${j.pattern}${j.tz ? ` ${j.tz}` : ''}`,
            j.paused ? 'yes' : 'no',
            time(j.nextRunAt),
            j.running ? `${j.running.instance} since ${time(j.running.startedAt)}` : '-',
            time(j.lastRun?.startedAt),
            j.lastRun?.outcome ?? '-',
            String(j.lastRun?.durationMs ?? '-'),
            j.lastRun?.error ?? '',
          ]),
        ]),
      )
      break
    }
    case 'runs': {
      const runs = await admin.recentRuns(id!, Number(values.limit))
      if (values.json) {
        console.log(JSON.stringify(runs, null, 2))
        break
      }
      console.log(
        table([
          ['STARTED', 'TICK', 'TRIGGER', 'ATTEMPT', 'INSTANCE', 'OUTCOME', 'MS', 'RESULT / ERROR'],
          ...runs.map((r) => [
            time(r.startedAt),
            time(r.tick),
            r.trigger,
            String(r.attempt),
            r.instance,
            r.outcome,
            String(r.durationMs ?? '-'),
            r.error ?? JSON.stringify(r.result ?? {}),
          ]),
        ]),
      )
      break
    }
    case 'pause':
      await admin.pause(id!)
      console.log(`${id} paused: its ticks are skipped until it is resumed`)
      break
    case 'resume':
      await admin.resume(id!)
      console.log(`${id} resumed`)
      break
    case 'run': {
      const { jobId } = await admin.runNow(id!)
      console.log(`${id} queued to run now on one worker (job ${jobId})`)
      break
    }
    default:
      console.error(usage)
      exitCode = 2
  }
} catch (error) {
  console.error(error instanceof UnknownScheduleError ? error.message : `failed: ${(error as Error).message}`)
  exitCode = 1
} finally {
  await queue.close()
  await closeRedis(redis)
  await storage.close()
}
process.exit(exitCode)
