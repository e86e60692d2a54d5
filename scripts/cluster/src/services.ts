/**
 * The machine's Redis and PostgreSQL: found running, or started when installed but stopped,
 * or a clear message saying how to get them. Used by `npm start` and the rehearsal.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import pg from 'pg'

export class ServiceMissingError extends Error {}

const isLocal = (host: string) => ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)
const which = (binary: string) => spawnSync('which', [binary], { encoding: 'utf8' }).stdout.trim() || undefined

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 })
  redis.on('error', () => {})
  try {
    await redis.connect()
    return (await redis.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    redis.disconnect()
  }
}

async function postgresAnswers(url: string): Promise<boolean> {
  const server = new URL(url)
  server.pathname = '/postgres'
  server.search = ''
  const client = new pg.Client({ connectionString: server.toString(), connectionTimeoutMillis: 1000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return true
    await sleep(250)
  }
  return false
}

export async function ensureRedis(url: string, log: (line: string) => void): Promise<void> {
  if (await redisAnswers(url)) return
  const { hostname, port } = new URL(url)
  const binary = which('redis-server')
  if (!isLocal(hostname) || !binary) {
    throw new ServiceMissingError(
      `Redis is not reachable at ${url}${binary ? '' : ' and redis-server is not installed'}.\n` +
        '  Install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis)\n' +
        '  or point REDIS_URL at a running Redis.',
    )
  }
  log(`starting Redis on port ${port || 6379} (${binary})`)
  execFileSync(binary, [
    '--daemonize',
    'yes',
    '--bind',
    '127.0.0.1',
    '--port',
    port || '6379',
    '--save',
    '',
    '--appendonly',
    'no',
  ])
  if (!(await waitFor(() => redisAnswers(url), 10_000)))
    throw new ServiceMissingError(`Redis was started but does not answer at ${url}`)
}

export async function ensurePostgres(url: string, log: (line: string) => void): Promise<void> {
  if (!/^postgres(ql)?:/.test(url)) return
  if (await postgresAnswers(url)) return
  const { hostname } = new URL(url)
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : []
  const ctl = which('pg_ctlcluster')
  if (!isLocal(hostname) || !ctl || versions.length === 0) {
    throw new ServiceMissingError(
      `PostgreSQL is not reachable at ${url.replace(/\/\/[^@]*@/, '//')}.\n` +
        '  Install it (Debian/Ubuntu: apt-get install -y postgresql; macOS: brew install postgresql)\n' +
        '  or point DATABASE_URL at a running PostgreSQL (the database itself is created on first start).',
    )
  }
  const version = versions.sort().at(-1)!
  log(`starting PostgreSQL ${version}`)
  execFileSync(ctl, ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'ignore' })
  if (!(await waitFor(() => postgresAnswers(url), 20_000)))
    throw new ServiceMissingError('PostgreSQL was started but does not answer')
}
