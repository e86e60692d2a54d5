import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, existsSync, readdirSync, writeFileSync } from 'node:fs'
import { setPriority } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { type Exit, isRunning, stopChild } from '@tms/sandbox'
import type { Release } from './release.js'
import { dieWithSupervisor } from './supervision.js'

export type AppName = 'api' | 'worker' | 'shop'

const ENTRY: Record<AppName, string> = {
  api: 'apps/api/dist/main.js',
  worker: 'apps/worker/dist/main.js',
  shop: 'apps/shop-sim/dist/main.js',
}

/**
 * A booting instance runs on spare CPU only. On a platform a new task boots on CPU of its own; on
 * one machine its start-up (loading and compiling a few thousand modules, a second or two of
 * one core) would take CPU from the instances serving traffic, a cost of the rehearsal rig
 * rather than of the deploy. Linux's SCHED_IDLE policy (chrt, util-linux) does exactly that: any
 * serving thread that wakes up preempts it at once. Where chrt is missing, a high niceness.
 */
const BOOT_NICENESS = 19
/**
 * How long an instance boots on spare CPU before it competes for CPU like any other: an idle
 * machine boots one in a second or two; a saturated one has no spare CPU at all, and a boot that
 * waits for it never ends (measured: never ready in 60 s at the README's 300/s).
 */
export const BOOT_ON_SPARE_CPU_MS = 5000
const CHRT = spawnSync('chrt', ['--version']).status === 0

function bootCommand(args: string[]): [string, string[]] {
  // Through chrt/nice, so every thread node starts inherits the boot priority from the first.
  return CHRT ? ['chrt', ['--idle', '0', ...args]] : ['nice', ['-n', String(BOOT_NICENESS), ...args]]
}

/**
 * One process of one app, running one release. Its own process group (a terminal's Ctrl-C
 * reaches only the supervisor, which decides how to stop it) and its own log file. It boots on
 * spare CPU only and is promoted once it serves.
 */
export class AppInstance {
  readonly #child: ChildProcess
  readonly exited: Promise<Exit>
  /** The script it runs: part of its command line, to tell it from another process with its pid. */
  readonly entry: string
  slot: number | undefined
  #promoted = false

  constructor(
    readonly app: AppName,
    readonly name: string,
    readonly release: Release,
    /** The port its health endpoints answer on (the API's HTTP port, the worker's health port). */
    readonly port: number,
    env: Record<string, string | undefined>,
    logFile: string,
  ) {
    this.entry = `${release.root}${ENTRY[app]}`
    // Killed with the supervisor, however the supervisor ends: no ghost instances.
    const [command, args] = dieWithSupervisor(...bootCommand([process.execPath, this.entry]))
    this.#child = spawn(command, args, {
      cwd: release.root,
      env: { ...process.env, ...env, INSTANCE_ID: name, APP_VERSION: release.version },
      // Through a pipe, as a container's stdout is: pino fsyncs its destination on flush and at
      // exit, and an fsync of a log file forces a filesystem journal commit that stalls every
      // database commit on the same disk (the commit probe shows them).
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    // Copied without backpressure: while the disk stalls, lines wait here in memory instead of
    // filling the pipe, which would block the instance's next log write and so its event loop
    // (with cat(1) as the reader, health checks were slow whenever the disk stalled).
    const log = createWriteStream(logFile, { flags: 'a' })
    const copy = (chunk: Buffer) => {
      log.write(chunk)
    }
    this.#child.stdout!.on('data', copy)
    this.#child.stderr!.on('data', copy)
    this.#setAutogroupNiceness(BOOT_NICENESS)
    // 'close': the process exited and its output is all read; then written to the log.
    this.exited = once(this.#child, 'close').then(async ([code, signal]) => {
      await new Promise<void>((resolve) => log.end(resolve))
      return { code, signal } as Exit
    })
  }

  get pid(): number | undefined {
    return this.#child.pid
  }

  get running(): boolean {
    return isRunning(this.#child)
  }

  /**
   * Ready: its /health/ready answers 200 (or it exited, which is an error). Still booting on spare
   * CPU after `promoteAfterMs`, it is promoted to normal priority (and `onPromoted` told): at
   * saturation there is no spare CPU, and a boot that never ends is a deploy that never ends.
   */
  async waitReady(timeoutMs = 60_000, options: { promoteAfterMs?: number; onPromoted?: () => void } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs
    const promoteAt = options.promoteAfterMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.promoteAfterMs
    while (Date.now() < deadline) {
      if (Date.now() >= promoteAt && !this.#promoted) {
        this.promote()
        options.onPromoted?.()
      }
      if (!this.running) throw new Error(`${this.name} exited while starting (${JSON.stringify(await this.exited)})`)
      const ok = await fetch(`http://127.0.0.1:${this.port}/health/ready`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) return
      await sleep(100)
    }
    throw new Error(`${this.name} was not ready within ${timeoutMs} ms`)
  }

  /**
   * Back to normal CPU priority, every thread of it. Raising priority needs root (or
   * CAP_SYS_NICE); without it the instance simply stays at the boot priority.
   */
  promote(): void {
    const pid = this.#child.pid
    if (!pid || !this.running || this.#promoted) return
    this.#promoted = true
    if (CHRT) spawnSync('chrt', ['--all-tasks', '--other', '--pid', '0', String(pid)])
    try {
      for (const thread of readdirSync(`/proc/${pid}/task`)) setPriority(Number(thread), 0)
    } catch {
      // not permitted or already gone: it keeps running at the boot priority
    }
    this.#setAutogroupNiceness(0)
  }

  /**
   * With the kernel's autogroup scheduling on, the CPU is shared fairly between sessions first,
   * and every instance runs in a session of its own (detached): thread niceness then only ranks
   * threads inside it, so the session's own niceness is the one that counts.
   */
  #setAutogroupNiceness(niceness: number): void {
    const file = `/proc/${this.#child.pid}/autogroup`
    try {
      if (existsSync(file)) writeFileSync(file, String(niceness))
    } catch {
      // not permitted: the scheduler treats it like any other session
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child.kill(signal)
  }

  /** SIGTERM, then waits for its exit (SIGKILL past `timeoutMs`). */
  stop(timeoutMs = 60_000): Promise<Exit> {
    return stopChild(this.#child, this.exited, timeoutMs)
  }
}
