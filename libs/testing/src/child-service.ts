import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { type Exit, isRunning, stopChild } from '@tms/sandbox'

export interface LogLine {
  level?: string
  msg?: string
  [key: string]: unknown
}

export interface ChildServiceOptions {
  name: string
  /** A built entry point, run with the current node binary. */
  script: string
  args?: string[]
  env?: Record<string, string | undefined>
  cwd?: string
  /** A command to run node under, e.g. ['taskset', '-c', '0'] to pin a benchmark's server to a core. */
  wrapper?: string[]
  /** Keep stdin open so the test can send the fixture commands (see `send`). */
  stdin?: boolean
}

/**
 * A real process of ours, read through its JSON log lines: tests wait for a line that
 * proves a state (listening, shutdown phase) instead of sleeping and hoping.
 */
export class ChildService {
  readonly name: string
  readonly process: ChildProcess
  readonly logs: LogLine[] = []
  readonly stderr: string[] = []
  readonly exited: Promise<Exit>
  #waiters: Array<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = []

  constructor(options: ChildServiceOptions) {
    this.name = options.name
    const [command, ...prefix] = [...(options.wrapper ?? []), process.execPath]
    this.process = spawn(command!, [...prefix, options.script, ...(options.args ?? [])], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    })
    this.exited = once(this.process, 'exit').then(([code, signal]) => ({ code, signal }) as Exit)
    createInterface({ input: this.process.stdout! }).on('line', (raw) => this.#onLine(raw))
    createInterface({ input: this.process.stderr! }).on('line', (raw) => {
      this.stderr.push(raw)
      this.#onLine(raw)
    })
  }

  #onLine(raw: string): void {
    let line: LogLine
    try {
      line = JSON.parse(raw) as LogLine
    } catch {
      line = { raw }
    }
    this.logs.push(line)
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(line)) return true
      w.resolve(line)
      return false
    })
  }

  /**
   * Resolves with the first log line (already seen or to come) that matches. The bound only ends
   * a test that would otherwise hang: on a busy machine a process's start alone takes seconds.
   */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    const seen = this.logs.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done)
        reject(new Error(`${this.name}: no matching log line within ${timeoutMs} ms; last lines:\n${this.tail()}`))
      }, timeoutMs)
      const done = (line: LogLine) => {
        clearTimeout(timer)
        resolve(line)
      }
      this.#waiters.push({ match, resolve: done })
      void this.exited.then((exit) => {
        if (this.#waiters.some((w) => w.resolve === done)) {
          clearTimeout(timer)
          reject(
            new Error(`${this.name} exited (${JSON.stringify(exit)}) before the awaited log line; last lines:\n${this.tail()}`),
          )
        }
      })
    })
  }

  /** Sends one JSON line on stdin and resolves with the reply line carrying the same id. */
  async request(command: Record<string, unknown>, timeoutMs = 60_000): Promise<LogLine> {
    const id = ++this.#requests
    const reply = this.waitForLog((line) => line.reply === id, timeoutMs)
    this.process.stdin!.write(`${JSON.stringify({ ...command, id })}\n`)
    return reply
  }

  #requests = 0

  tail(n = 15): string {
    return this.logs
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join('\n')
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.process.kill(signal)
  }

  get running(): boolean {
    return isRunning(this.process)
  }

  stop(timeoutMs = 10_000): Promise<Exit> {
    return stopChild(this.process, this.exited, timeoutMs)
  }
}

interface Teardown {
  teardown(fn: () => unknown): void
}

/** Starts a service and kills it when the test ends, whatever happened. */
export function startChildService(t: Teardown, options: ChildServiceOptions): ChildService {
  const child = new ChildService(options)
  t.teardown(async () => {
    if (child.running) {
      child.signal('SIGKILL')
      await child.exited
    }
  })
  return child
}
