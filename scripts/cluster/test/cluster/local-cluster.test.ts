import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { ensureTestDatabase, isolatedDatabaseUrl, isolatedRedisPrefix, TEST_REDIS_URL } from '@tms/testing'
import t from 'tap'
import { readClusterDefinition } from '../../src/cluster-definition.js'
import { LocalCluster, type TimelineEvent } from '../../src/local-cluster.js'
import { PortAllocator } from '../../src/ports.js'
import { currentRelease } from '../../src/release.js'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test('stopped while it is still starting, the cluster leaves no process behind', async (t) => {
  await ensureTestDatabase()
  const runDir = mkdtempSync(`${tmpdir()}/tms-cluster-`)
  t.teardown(() => rmSync(runDir, { recursive: true, force: true }))
  const definition = readClusterDefinition()
  definition.api.instances = 2
  definition.worker.instances = 1
  const ports = new PortAllocator(22_000 + (process.pid % 5_000))
  const pids: number[] = []
  let apiStarted: () => void
  const firstApiStarted = new Promise<void>((resolve) => {
    apiStarted = resolve
  })
  const cluster = new LocalCluster({
    definition,
    runDir,
    env: {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: isolatedRedisPrefix(t),
      DATABASE_URL: isolatedDatabaseUrl(t),
      LOG_LEVEL: 'warn',
    },
    release: currentRelease('test'),
    lbPort: await ports.take(),
    shopPort: await ports.take(),
    portBase: (await ports.take()) + 1,
    onEvent: (event: TimelineEvent) => {
      const pid = /pid (\d+)/.exec(event.detail ?? '')?.[1]
      if (event.action === 'started' && pid) pids.push(Number(pid))
      if (event.app === 'api' && event.action === 'started') apiStarted()
    },
  })
  const starting = cluster.start()
  starting.catch(() => undefined)
  await firstApiStarted // the shop serves, the first API instance is booting, the rest to come
  await cluster.stop()
  await t.rejects(starting, 'starting gives up')
  t.ok(pids.length >= 2, `processes were launched (${pids.length})`)
  t.same(pids.filter(alive), [], 'every launched process has exited')
  t.equal(
    cluster.timeline.filter((e) => e.app === 'worker' && e.action === 'started').length,
    0,
    'nothing launched after the stop',
  )
})
