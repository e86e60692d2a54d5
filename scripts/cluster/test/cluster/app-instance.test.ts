import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import t from 'tap'
import { AppInstance } from '../../src/app-instance.js'
import { PortAllocator } from '../../src/ports.js'
import { currentRelease } from '../../src/release.js'

/** Every thread's scheduling policy, as the kernel reports it (0 normal, 5 idle). */
function policies(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((thread) => {
    const sched = readFileSync(`/proc/${pid}/task/${thread}/sched`, 'utf8')
    return Number(/^policy\s*:\s*(\d+)$/m.exec(sched)![1])
  })
}

const SCHED_OTHER = 0
const SCHED_IDLE = 5
const hasChrt = spawnSync('chrt', ['--version']).status === 0

t.test(
  'a booting instance runs on spare CPU only, every thread of it, and at normal priority once promoted',
  { skip: !hasChrt && 'needs chrt (util-linux) and Linux' },
  async (t) => {
    const dir = mkdtempSync(`${tmpdir()}/tms-app-instance-`)
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const port = await new PortAllocator(21_000 + (process.pid % 5_000)).take()
    const shop = new AppInstance(
      'shop',
      'shop-test',
      currentRelease('test'),
      port,
      { PORT: String(port), HOST: '127.0.0.1' },
      `${dir}/shop.log`,
    )
    t.teardown(() => shop.stop(10_000))

    await shop.waitReady()
    const booting = policies(shop.pid!)
    t.ok(booting.length > 1, `node runs several threads (${booting.length})`)
    t.same(new Set(booting), new Set([SCHED_IDLE]), 'every thread boots under SCHED_IDLE')

    shop.promote()
    t.same(new Set(policies(shop.pid!)), new Set([SCHED_OTHER]), 'every thread is back to SCHED_OTHER')
    t.equal(readFileSync(`/proc/${shop.pid}/autogroup`, 'utf8').trim().split(' nice ')[1], '0', 'its session too')

    const exit = await shop.stop(10_000)
    t.same(exit, { code: 0, signal: null }, 'SIGTERM stops it cleanly')
    // Once it has exited, its log is complete: every line, the last one included.
    const lines = readFileSync(`${dir}/shop.log`, 'utf8').trimEnd().split('\n')
    const last = JSON.parse(lines.at(-1)!) as { instance: string; msg: string }
    t.equal(last.instance, 'shop-test', 'its JSON log names the instance')
    t.match(last.msg, /stopped|closed|shut/i, `the log ends with its last words: ${last.msg}`)
  },
)

t.test(
  'an instance still booting after promoteAfterMs is promoted: a boot never waits for spare CPU forever',
  { skip: !hasChrt && 'needs chrt (util-linux) and Linux' },
  async (t) => {
    // A stand-in that says ready only once it runs at normal priority: on a machine with no
    // spare CPU, that is what a boot under SCHED_IDLE looks like.
    const root = mkdtempSync(`${tmpdir()}/tms-boot-budget-`)
    t.teardown(() => rmSync(root, { recursive: true, force: true }))
    mkdirSync(`${root}/apps/shop-sim/dist`, { recursive: true })
    writeFileSync(
      `${root}/apps/shop-sim/dist/main.js`,
      `const { readFileSync } = require('node:fs')
const idle = () => /^policy\\s*:\\s*5$/m.test(readFileSync('/proc/self/sched', 'utf8'))
require('node:http').createServer((req, res) => { res.statusCode = idle() ? 503 : 200; res.end() })
  .listen(Number(process.env.PORT), '127.0.0.1')
process.on('SIGTERM', () => process.exit(0))`,
    )
    const ports = new PortAllocator(23_000 + (process.pid % 5_000))
    const start = async (name: string) => {
      const port = await ports.take()
      const instance = new AppInstance(
        'shop',
        name,
        { version: 'test', root: `${root}/` },
        port,
        { PORT: String(port) },
        `${root}/${name}.log`,
      )
      t.teardown(() => instance.stop(5000))
      return instance
    }

    const unpromoted = await start('never-promoted')
    await t.rejects(unpromoted.waitReady(2000), /not ready within 2000 ms/, 'on spare CPU only, it never says ready')

    const budgeted = await start('promoted-after-budget')
    let promoted = 0
    const began = Date.now()
    await budgeted.waitReady(20_000, { promoteAfterMs: 500, onPromoted: () => promoted++ })
    t.equal(promoted, 1, 'promoted once, and told')
    t.ok(Date.now() - began >= 500, 'not before its budget')
    t.same(new Set(policies(budgeted.pid!)), new Set([SCHED_OTHER]))
  },
)
