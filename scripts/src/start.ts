/**
 * npm start: the system on this machine, against the local Redis and PostgreSQL (started when
 * installed but stopped). Ctrl-C or SIGTERM stops every process gracefully.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, DEV_DEFAULTS } from '@tms/config'
import { ensurePostgres, ensureRedis, ServiceMissingError } from './services.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const say = (line: string) => process.stderr.write(`[tms] ${line}\n`)

const env = { ...process.env }
env.REDIS_URL ??= DEFAULT_REDIS_URL
env.DATABASE_URL ??= DEFAULT_DATABASE_URL
const port = env.PORT ?? '3000'

try {
  await ensureRedis(env.REDIS_URL, say)
  await ensurePostgres(env.DATABASE_URL, say)
} catch (error) {
  if (!(error instanceof ServiceMissingError)) throw error
  say(error.message)
  process.exit(1)
}

const children: ChildProcess[] = []
function run(name: string, script: string, extraEnv: Record<string, string>): ChildProcess {
  // Its own process group: a terminal's Ctrl-C reaches only us, and we send exactly one SIGTERM
  // (a second signal would make the API skip its drain and exit at once).
  const child = spawn(process.execPath, [`${root}${script}`], {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  })
  child.on('exit', (code, signal) => {
    say(`${name} exited (${signal ?? code})`)
    if (!stopping) stop(1)
  })
  children.push(child)
  return child
}

let stopping = false
function stop(code: number): void {
  if (stopping) return
  stopping = true
  say('stopping (the API drains first; a second Ctrl-C stops at once)')
  for (const child of children) child.kill('SIGTERM')
  void Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.on('exit', r)) : null))).then(() =>
    process.exit(code),
  )
}
process.once('SIGINT', () => {
  stop(0)
  process.once('SIGINT', () => {
    for (const child of children) child.kill('SIGKILL')
    process.exit(130)
  })
})
process.once('SIGTERM', () => stop(0))
// If we die without a chance to stop them, take the children along rather than leave orphans.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
})

const shopPort = env.SHOP_PORT ?? '3100'
env.SHOP_API_URL ??= `http://127.0.0.1:${shopPort}`
run('shop-sim', 'apps/shop-sim/dist/main.js', { PORT: shopPort })
run('worker', 'apps/worker/dist/main.js', { WORKER_HEALTH_PORT: env.WORKER_HEALTH_PORT ?? '3001' })
run('api', 'apps/api/dist/main.js', { PORT: port })
say(`API at http://127.0.0.1:${port}  (OpenAPI: /docs/json, health: /health/ready)`)
say(`worker health at http://127.0.0.1:${env.WORKER_HEALTH_PORT ?? '3001'}/health/ready; jobs: npm run jobs -- list`)
say(`shop simulator at ${env.SHOP_API_URL}/orders (new orders every few seconds)`)
say(
  `development login: ${env.ADMIN_EMAIL ?? DEV_DEFAULTS.ADMIN_EMAIL} / ${env.ADMIN_PASSWORD ? '(ADMIN_PASSWORD)' : DEV_DEFAULTS.ADMIN_PASSWORD}  (POST /auth/login)`,
)
