import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** A stretch of time in which the database took long to commit anything at all. */
export interface CommitStall {
  /** Epoch ms. */
  from: number
  to: number
}

/**
 * Slower than this, a one-row commit on its own connection is the disk, not the work: far
 * above a commit's p99 at rest, far below the stalls a virtual disk has (docs/rehearsal.md).
 */
export const STALL_THRESHOLD_MS = 25

/**
 * The commit probe: measures, independently of the apps, how long the database takes to commit.
 * On a virtual disk a WAL fsync now and then takes hundreds of milliseconds; every write of
 * every instance waits for it, deploy or not. The rehearsal sets the requests caught in such a
 * stall aside when it compares latency during the deploy with the steady state (and says so),
 * so that the comparison measures the deploy and not the disk.
 */
export class CommitProbe {
  readonly #child: ChildProcess
  readonly #stalls: CommitStall[] = []
  readonly #ready: Promise<void>

  constructor(databaseUrl: string) {
    const entry = fileURLToPath(new URL('./commit-probe-process.js', import.meta.url))
    this.#child = spawn(process.execPath, [entry, databaseUrl, String(STALL_THRESHOLD_MS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    this.#ready = new Promise((resolve, reject) => {
      this.#child.once('exit', (code) => reject(new Error(`the commit probe exited (${code}) before it was ready`)))
      createInterface({ input: this.#child.stdout! }).on('line', (line) => {
        const sample = JSON.parse(line) as { ready?: true; at: number; ms: number }
        if (sample.ready) resolve()
        else this.#stalls.push({ from: sample.at, to: sample.at + sample.ms })
      })
    })
  }

  ready(): Promise<void> {
    return this.#ready
  }

  async stop(): Promise<CommitStall[]> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = once(this.#child, 'exit')
      this.#child.kill('SIGTERM')
      await exited
    }
    return this.#stalls
  }
}
