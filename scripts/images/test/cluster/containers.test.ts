/**
 * The images as the platforms run them: built here (npm run images' code), started with podman on
 * a read-only root filesystem as their own user, against the machine's Redis and PostgreSQL,
 * and stopped the way ECS and Kubernetes stop a task (`podman stop -t 120`: SIGTERM to PID 1).
 */
import { Agent, request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { REPO_ROOT } from '@tms/cluster'
import {
  ensureTestDatabase,
  eventually,
  freePort,
  isolatedDatabaseUrl,
  isolatedRedisPrefix,
  sqlClient,
  startChildService,
  TEST_REDIS_URL,
  uniqueName,
} from '@tms/testing'
import t, { type Test } from 'tap'
import { AppContainer, buildImages, podman, podmanSync } from '../../src/index.js'

const ADMIN = { email: 'admin@test.local', password: 'admin password for container tests' }
const DRAIN_MS = 3000

// One tag for every run of this test, so that each run replaces the last run's images instead
// of adding two per commit.
const built = await buildImages({ tag: 'container-test', log: (line) => t.comment(line) })
const image = (app: 'api' | 'worker') => built.find((b) => b.app === app)!.image
for (const b of built) t.comment(`${b.image}: ${(b.sizeBytes / 2 ** 20).toFixed(0)} MiB, built in ${b.seconds.toFixed(0)} s`)
await ensureTestDatabase()

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}
function http(url: string, path: string, options: { method?: string; body?: unknown; cookie?: string; agent?: Agent } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body)
    const req = request(
      `${url}${path}`,
      {
        method: options.method ?? 'GET',
        agent: options.agent ?? false,
        headers: {
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...(options.cookie ? { cookie: options.cookie } : {}),
        },
      },
      (res) => {
        let text = ''
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** Redis and PostgreSQL as every container of a test sees them: the machine's, a prefix and a schema of its own. */
const stores = (t: Test) => ({
  HOST: '127.0.0.1',
  REDIS_URL: TEST_REDIS_URL,
  REDIS_KEY_PREFIX: isolatedRedisPrefix(t),
  DATABASE_URL: isolatedDatabaseUrl(t),
})

async function startApi(t: Test, extra: Record<string, string> = {}) {
  const port = await freePort()
  const container = new AppContainer(uniqueName('tms-api'), image('api'), {
    ...stores(t),
    PORT: String(port),
    SESSION_SECRETS: 'container-test-secret-container-test-secret',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    DRAIN_DELAY_MS: String(DRAIN_MS),
    ...extra,
  })
  t.teardown(() => container.remove())
  const url = `http://127.0.0.1:${port}`
  await container.waitUntilReady(`${url}/health/ready`)
  return { container, url }
}

t.test('the runtime images hold the builds and production dependencies, nothing else', async (t) => {
  for (const b of built) {
    const listed = podmanSync([
      'run',
      '--rm',
      '--read-only',
      '--no-healthcheck',
      ...['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'],
      b.image,
      'sh',
      '-c',
      // Dev tools anywhere; sources, tests and test helpers in our own packages.
      "find /app/node_modules -maxdepth 2 \\( -name typescript -o -name tap -o -name @tapjs -o -name vite -o -name playwright-core -o -name @biomejs -o -name turbo -o -name knip -o -name esbuild \\) -print; find /app/apps /app/libs -path '*/node_modules' -prune -o \\( -name src -o -name test -o -name '*.test.*' -o -name '*.ts' ! -name '*.d.ts' -o -name testing \\) -print",
    ])
    t.equal(listed.code, 0, `${b.app}: listed`)
    t.equal(listed.output.trim(), '', `${b.app}: no dev tools, sources or tests`)
  }
})

t.test('the API container: ready read-only as uid 1000, serves the web app and the API; its health check passes', async (t) => {
  const { container, url } = await startApi(t)
  const page = await http(url, '/')
  t.equal(page.status, 200, 'the web app')
  t.match(page.headers['content-type'], /text\/html/)
  const login = await http(url, '/auth/login', { method: 'POST', body: ADMIN })
  t.equal(login.status, 200, 'a login')
  const cookie = ([] as string[])
    .concat(login.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith('tms.sid='))!
    .split(';')[0]!
  t.equal((await http(url, '/auth/me', { cookie })).status, 200, 'the API, with the session')

  const uid = await container.exec(['id', '-u'])
  t.equal(uid.output.trim(), '1000', 'runs as node (uid 1000), not root')
  const write = await container.exec(['sh', '-c', 'touch /app/x'])
  t.not(write.code, 0, 'the root filesystem is read-only')
  t.match(write.output, /Read-only file system/)
  t.equal((await container.exec(['sh', '-c', 'touch /tmp/x'])).code, 0, '/tmp is writable')
  const health = await podman(['healthcheck', 'run', container.name])
  t.equal(health.code, 0, `the image's HEALTHCHECK passes in the container ${health.output.trim()}`)
  const lines = container.logs.filter((l) => l.raw === undefined)
  t.ok(lines.length > 0, 'it logged')
  t.same(
    container.logs.filter((l) => l.raw !== undefined),
    [],
    'every line on stdout and stderr is JSON',
  )
  t.match(lines[0], { app: 'api', version: String, instance: String })
})

t.test('podman stop -t 120 under load: every request answered, the drain served, exit 0', async (t) => {
  const { container, url } = await startApi(t)
  const login = await http(url, '/auth/login', { method: 'POST', body: ADMIN })
  const cookie = ([] as string[])
    .concat(login.headers['set-cookie'] ?? [])
    .find((c) => c.startsWith('tms.sid='))!
    .split(';')[0]!
  const agent = new Agent({ keepAlive: true, maxSockets: 4 })
  t.teardown(() => agent.destroy())
  let stopping = false
  let stop = false
  let answered = 0
  let afterStop = 0
  const errors: string[] = []
  const statuses = new Map<number, number>()
  // Four keep-alive clients. Like a load balancer, they stop sending once they have seen the
  // instance leave (readiness 503), a second later: well inside the drain.
  const loops = Array.from({ length: 4 }, async () => {
    while (!stop) {
      try {
        const r = await http(url, '/auth/me', { cookie, agent })
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
        answered++
        if (stopping) afterStop++
      } catch (error) {
        errors.push((error as Error).message)
      }
    }
  })
  await eventually(() => answered >= 20 || errors.length > 0)
  const stoppedAt = Date.now()
  const exit = container.stop(120)
  stopping = true
  await eventually(async () => (await http(url, '/health/ready')).status === 503, { what: 'readiness 503' })
  await sleep(1000)
  stop = true
  await Promise.all(loops)
  const { code } = await exit
  const tookMs = Date.now() - stoppedAt

  t.same(errors, [], 'no request failed')
  t.same([...statuses.keys()], [200], 'every answer a 200')
  t.ok(afterStop > 0, `served after the stop began (${afterStop} of ${answered})`)
  t.equal(code, 0, 'exit 0')
  t.ok(tookMs < 120_000, `stopped in ${tookMs} ms, inside the 120 s before SIGKILL (drain ${DRAIN_MS} ms)`)
  const phases = container.logs.map((l) => l.phase).filter(Boolean)
  t.match(phases.join(' '), /readiness-off.*done/, `the shutdown went through its steps: ${phases.join(', ')}`)
})

async function startWorker(t: Test, env: Record<string, string>) {
  const port = await freePort()
  const container = new AppContainer(uniqueName('tms-worker'), image('worker'), { WORKER_HEALTH_PORT: String(port), ...env })
  t.teardown(() => container.remove())
  await container.waitUntilReady(`http://127.0.0.1:${port}/health/ready`)
  return container
}

t.test('the worker container: ready read-only, its health check passes, podman stop exits 0', async (t) => {
  const container = await startWorker(t, { ...stores(t), SHOP_API_URL: 'http://127.0.0.1:9' })
  const health = await podman(['healthcheck', 'run', container.name])
  t.equal(health.code, 0, `the image's HEALTHCHECK passes ${health.output.trim()}`)
  t.equal((await container.exec(['id', '-u'])).output.trim(), '1000')
  const { code } = await container.stop(120)
  t.equal(code, 0, 'exit 0')
  t.same(
    container.logs.filter((l) => l.raw !== undefined),
    [],
    'every line is JSON',
  )
})

t.test('podman stop -t 120 while a job runs: the job finishes its work, then the worker exits 0', async (t) => {
  // The web shop, simulated on the host, with 12 orders and a first answer 15 s slow: the
  // worker's first sync-orders run (its schedule ticks once as the worker starts) is in flight.
  const shop = startChildService(t, {
    name: 'shop',
    script: `${REPO_ROOT}apps/shop-sim/dist/main.js`,
    env: {
      PORT: '0',
      LOG_LEVEL: 'info',
      SHOP_FAULTS: 'true',
      SHOP_INITIAL_ORDERS: '12',
      SHOP_ORDERS_PER_MINUTE: '0',
      SHOP_PROBLEM_RATE: '0',
    },
  })
  const shopUrl = `http://127.0.0.1:${(await shop.waitForLog((l) => l.msg === 'listening', 30_000)).port as number}`
  const fault = await fetch(`${shopUrl}/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode: 'slow', requests: 1, delayMs: 15_000 }),
  })
  t.equal(fault.status, 200, 'the shop answers its first request slowly')
  const env = { ...stores(t), SHOP_API_URL: shopUrl, SHOP_TIMEOUT_MS: '60000' }
  const container = await startWorker(t, env)
  const sql = await sqlClient(t, env.DATABASE_URL)
  const run = async () =>
    (
      await sql
        .query<{ data: { id: string; outcome: string; endedAt: string | null } }>(
          "SELECT data FROM job_runs WHERE data->>'scheduleId' = 'sync-orders' ORDER BY data->>'startedAt' LIMIT 1",
        )
        .catch(() => ({ rows: [] }))
    ).rows[0]?.data
  const running = (
    await eventually(
      async () => {
        const first = await run()
        return first?.outcome === 'running' ? first : undefined
      },
      { what: 'the sync running' },
    )
  ).value
  const stoppedAt = Date.now()
  const { code } = await container.stop(120)
  t.equal(code, 0, `exit 0, ${Date.now() - stoppedAt} ms after podman stop`)
  const finished = await run()
  t.match(finished, { id: running!.id, outcome: 'succeeded' }, 'the run in flight at the stop finished')
  t.ok(Date.parse(finished!.endedAt!) >= stoppedAt, 'after the stop: the worker waited for it')
  const { rows } = await sql.query<{ n: string }>('SELECT count(*) AS n FROM shipment_requests')
  t.equal(Number(rows[0]!.n), 12, 'every order became a shipment request')
})
