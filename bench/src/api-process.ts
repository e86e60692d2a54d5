/**
 * The real API (apps/api/dist/main.js) as a benchmark's server: its own process, LOG_LEVEL=warn
 * (no per-request log line, as the baselines write none), the bench's Redis prefix and schema.
 */
import { fileURLToPath } from 'node:url'
import { ChildService, freePort, TEST_REDIS_URL } from '@tms/testing'

const API_MAIN = fileURLToPath(new URL('../../apps/api/dist/main.js', import.meta.url))
export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret'
/** Created as the first admin when the schema has no user yet. */
export const BENCH_ADMIN = { email: 'bench@tms.local', password: 'bench password 123' }

export interface BenchApiOptions {
  name: string
  redisPrefix: string
  databaseUrl: string
  /** A command prefix, e.g. pinning to a core (machine.ts onCore). */
  wrapper: string[]
  env?: Record<string, string>
}

/** Starts it and resolves once /health/ready answers 200, with its base URL. */
export async function startBenchApi(options: BenchApiOptions): Promise<{ child: ChildService; base: string }> {
  const port = await freePort()
  const child = new ChildService({
    name: options.name,
    wrapper: options.wrapper,
    script: API_MAIN,
    env: {
      PORT: String(port),
      LOG_LEVEL: 'warn',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: options.redisPrefix,
      DATABASE_URL: options.databaseUrl,
      SESSION_SECRETS: BENCH_SECRET,
      ADMIN_EMAIL: BENCH_ADMIN.email,
      ADMIN_PASSWORD: BENCH_ADMIN.password,
      ...options.env,
    },
  })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    const ready = await fetch(`${base}/health/ready`).then(
      (r) => r.ok,
      () => false,
    )
    if (ready) return { child, base }
    if (child.process.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 100))
  }
  child.process.kill('SIGKILL')
  throw new Error(`${options.name} did not become ready in 30 s`)
}

/**
 * Logs BENCH_ADMIN in and answers with the session cookie (`name=value`), checked on /auth/me:
 * a login answers other cookies too (the device cookie), and a benchmark driven by a cookie
 * that is not the session measures 401s.
 */
export async function benchAdminSession(base: string): Promise<string> {
  const login = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(BENCH_ADMIN),
  })
  const session = login.headers.getSetCookie().find((c) => c.startsWith('tms.sid='))
  if (!session) throw new Error(`login of ${BENCH_ADMIN.email}: ${login.status}, no session cookie`)
  const cookie = session.split(';')[0]!
  const me = await fetch(`${base}/auth/me`, { headers: { cookie } })
  if (!me.ok) throw new Error(`the session cookie of ${BENCH_ADMIN.email} is refused: ${me.status}`)
  return cookie
}
