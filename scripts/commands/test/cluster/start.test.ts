import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { createInterface } from 'node:readline'
import { isRunning, PortAllocator, REPO_ROOT, type RecordedProcess, readClusterState, writeClusterState } from '@tms/cluster'
import { ensureTestDatabase, eventually, isolatedDatabaseUrl, isolatedRedisPrefix, TEST_REDIS_URL } from '@tms/testing'
import t, { type Test } from 'tap'

/**
 * `npm start` as a process (scripts/commands/dist/start.js, what `npm start` runs after its build), on
 * ports, a cluster directory, a Redis prefix and a schema of the test's own. The supervisor's
 * lines go to stderr; "TMS packing station: <url>" says it serves.
 */
const START = `${REPO_ROOT}scripts/commands/dist/start.js`
/** Generous: the bound only ends a test that would otherwise hang. */
const UP_WITHIN_MS = 180_000

interface Supervisor {
  child: ChildProcess
  lines: string[]
  /** Resolves once it prints that it is up; rejects if it exits first. */
  up: Promise<void>
  exited: Promise<number | null>
}

function startSupervisor(t: Test, env: Record<string, string>): Supervisor {
  const child = spawn(process.execPath, [START, '--api', '1', '--workers', '1'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const lines: string[] = []
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const up = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      lines.push(line)
      if (line.includes('TMS packing station: http')) resolve()
    })
    void exited.then((code) => reject(new Error(`npm start exited (${code}) before it was up:\n${lines.join('\n')}`)))
    setTimeout(() => reject(new Error(`not up within ${UP_WITHIN_MS} ms:\n${lines.join('\n')}`)), UP_WITHIN_MS).unref()
  })
  up.catch(() => undefined)
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    await exited
  })
  return { child, lines, up, exited }
}

/** A port for the balancer whose next one (the deploy control) is free too, and one for the shop. */
async function clusterPorts(): Promise<{ lbPort: number; shopPort: number }> {
  const ports = new PortAllocator(23_000 + (process.pid % 5_000))
  for (;;) {
    const lbPort = await ports.take()
    if ((await ports.take()) === lbPort + 1) return { lbPort, shopPort: await ports.take() }
  }
}

async function clusterEnv(t: Test): Promise<Record<string, string> & { CLUSTER_DIR: string; LB_PORT: string }> {
  await ensureTestDatabase()
  const dir = mkdtempSync(`${tmpdir()}/tms-start-`)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const { lbPort, shopPort } = await clusterPorts()
  return {
    CLUSTER_DIR: dir,
    LB_PORT: String(lbPort),
    SHOP_PORT: String(shopPort),
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: isolatedRedisPrefix(t),
    DATABASE_URL: isolatedDatabaseUrl(t),
    LOG_LEVEL: 'warn',
    WARM_UP_REQUESTS: '0',
  }
}

const processesOf = (dir: string): RecordedProcess[] => readClusterState(`${dir}/state.json`)?.processes ?? []

async function allGone(processes: RecordedProcess[], withinMs: number): Promise<RecordedProcess[]> {
  await eventually(() => !processes.some(isRunning), { withinMs, everyMs: 100 }).catch(() => undefined)
  return processes.filter(isRunning)
}

t.test('SIGKILL the supervisor: every process it ran exits on its own, and npm start again serves every request', async (t) => {
  const env = await clusterEnv(t)
  const first = startSupervisor(t, env)
  await first.up
  const ran = processesOf(env.CLUSTER_DIR)
  t.same(ran.map((p) => p.name).sort(), ['api-1', 'haproxy', 'shop-1', 'worker-1'], 'the balancer and three instances ran')

  first.child.kill('SIGKILL')
  await first.exited
  t.same(await allGone(ran, 30_000), [], 'every process of the killed supervisor is gone (parent-death signal)')

  // A leftover that did not die with it (a machine without setpriv, or a start before this
  // fix): recorded in the state file, still running.
  const ghost = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'tms-ghost-instance'], { stdio: 'ignore' })
  t.teardown(() => ghost.kill('SIGKILL'))
  const state = readClusterState(`${env.CLUSTER_DIR}/state.json`)!
  writeClusterState(`${env.CLUSTER_DIR}/state.json`, {
    ...state,
    processes: [...state.processes, { pid: ghost.pid!, name: 'api-9', match: 'tms-ghost-instance' }],
  })

  const second = startSupervisor(t, env)
  await second.up
  t.ok(
    second.lines.some((l) => /stopping 1 process\(es\) left by an earlier cluster.*api-9/.test(l)),
    'the new start found the leftover and said so',
  )
  t.notOk(isRunning({ pid: ghost.pid!, name: 'api-9', match: 'tms-ghost-instance' }), 'and stopped it')

  const url = `http://127.0.0.1:${env.LB_PORT}`
  const answers = await Promise.all(
    Array.from({ length: 50 }, async () => {
      const response = await fetch(`${url}/health/ready`)
      return { status: response.status, instance: response.headers.get('x-instance-id'), body: await response.text() }
    }),
  )
  const wrong = answers.filter((a) => a.status !== 200 || a.instance !== 'api-1')
  t.same(wrong, [], '50 requests through the balancer: every one 200 from the new API instance')

  const upLines = second.lines.slice(second.lines.findIndex((l) => l.includes('TMS packing station: ')))
  t.match(upLines[0], `TMS packing station: ${url}/`, "the first thing it says once up is the web app's address")
  const page = await fetch(`${url}/`)
  t.equal(page.status, 200, 'and the balancer serves the web app there')
  t.match(page.headers.get('content-type'), /^text\/html/)
  t.match(await page.text(), /<title>TMS packing station<\/title>/)
})

t.test('a second npm start beside a running one is refused, naming it; Ctrl-C twice leaves nothing behind', async (t) => {
  const env = await clusterEnv(t)
  const running = startSupervisor(t, env)
  await running.up
  const ran = processesOf(env.CLUSTER_DIR)

  const again = startSupervisor(t, env)
  t.equal(await again.exited, 1, 'refused with exit 1')
  t.match(
    again.lines.join('\n'),
    new RegExp(`already running \\(supervisor pid ${running.child.pid}, http://127\\.0\\.0\\.1:${env.LB_PORT}\\)`),
  )
  t.same(
    ran.filter((p) => !isRunning(p)),
    [],
    'the running cluster is untouched',
  )

  running.child.kill('SIGINT')
  await eventually(() => running.lines.some((l) => l.includes('stopping:')), { what: 'stopping:' })
  running.child.kill('SIGINT')
  t.equal(await running.exited, 130, 'the second Ctrl-C exits at once')
  t.same(await allGone(ran, 10_000), [], 'every process of the cluster is gone')
})

t.test('a port held by something else: npm start refuses, naming the port and who holds it', async (t) => {
  const env = await clusterEnv(t)
  mkdirSync(env.CLUSTER_DIR, { recursive: true })
  const squatter = createServer()
  await new Promise<void>((resolve) => squatter.listen(Number(env.LB_PORT), '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => squatter.close(resolve)))
  const refused = startSupervisor(t, env)
  t.equal(await refused.exited, 1)
  t.match(
    refused.lines.join('\n'),
    new RegExp(`port ${env.LB_PORT} \\(the load balancer\\) is in use by node \\(pid ${process.pid}\\)`),
  )
  t.same(processesOf(env.CLUSTER_DIR), [], 'nothing was started')
})
