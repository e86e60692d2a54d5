import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { inspector, isolatedEnv, startWorker, until } from '../support.js'

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const run = promisify(execFile)

t.test('npm run jobs: list, runs, pause, resume, run', async (t) => {
  const env = await isolatedEnv(t, { JOB_CREATE_SHIPMENTS_EVERY: '1s' })
  const look = await inspector(t, env)
  const worker = await startWorker(t, env)
  const jobs = async (...args: string[]) => run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } })
  const succeeded = async () => (await look.runs.all('create-shipments')).filter((r) => r.outcome === 'succeeded').length
  await until(async () => (await succeeded()) >= 3)

  const list = await jobs('list')
  t.match(list.stdout, /^JOB\s+INTERVAL\s+PAUSED\s+NEXT RUN/)
  t.match(list.stdout, /create-shipments\s+1s\s+no/)
  t.match(list.stdout, /sync-orders\s+3600s/)

  const runs = JSON.parse((await jobs('runs', 'create-shipments', '--limit', '3', '--json')).stdout) as Array<{
    outcome: string
    tick: string
  }>
  t.equal(runs.length, 3)
  t.ok(runs.every((r) => r.outcome === 'succeeded' && r.tick))

  t.match((await jobs('pause', 'create-shipments')).stdout, /create-shipments paused/)
  t.ok(await look.registry.isPaused('create-shipments'))
  t.match((await jobs('list')).stdout, /create-shipments\s+1s\s+yes/)
  t.match((await jobs('resume', 'create-shipments')).stdout, /resumed/)
  t.match((await jobs('run', 'housekeeping')).stdout, /housekeeping queued to run now on one worker \(job \d+\)/)

  const unknown = await jobs('pause', 'nope').catch((error: { code: number; stderr: string }) => error)
  t.match(unknown, { code: 1, stderr: /no job schedule "nope"/ })
  const usage = await jobs('frobnicate').catch((error: { code: number; stderr: string }) => error)
  t.match(usage, { code: 2, stderr: /usage: npm run jobs/ })
  await worker.stop()
})

t.test('npm run -s jobs -- runs ID --json prints only JSON on stdout: the build first says nothing there', async (t) => {
  const env = await isolatedEnv(t, { JOB_CREATE_SHIPMENTS_EVERY: '1s' })
  const look = await inspector(t, env)
  const worker = await startWorker(t, env)
  await until(async () => (await look.runs.all('create-shipments')).some((r) => r.outcome === 'succeeded'))
  // The root script, as a person types it: scripts/prepare.mjs and Turborepo's build run first.
  const { stdout, stderr } = await run('npm', ['run', '-s', 'jobs', '--', 'runs', 'create-shipments', '--json'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  })
  const runs = JSON.parse(stdout) as Array<{ scheduleId: string }>
  t.ok(runs.length >= 1 && runs.every((r) => r.scheduleId === 'create-shipments'), `${runs.length} runs, parsed`)
  t.match(stderr, /turbo/, "the build's output went to stderr")
  await worker.stop()
})
