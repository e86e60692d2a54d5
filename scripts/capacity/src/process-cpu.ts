import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

/** Linux's clock ticks per second for /proc/<pid>/stat (USER_HZ, 100 on every common kernel). */
const TICKS_PER_SECOND = 100

/** CPU seconds a process has used so far (user + system), or null once it is gone. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return null
  }
}

/**
 * CPU nanoseconds a process's threads have run so far (the scheduler's own sum, per thread in
 * /proc/<pid>/task/<tid>/schedstat): precise enough to charge a single request, where the
 * 10 ms ticks of /proc/<pid>/stat are not. Threads that ended are left out.
 */
export function cpuNanosOf(pid: number): number {
  let sum = 0
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return sum
}

/** Every process whose command name is exactly `name` (pgrep -x), e.g. postgres, redis-server. */
export function pidsNamed(name: string): number[] {
  try {
    return execFileSync('pgrep', ['-x', name], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/**
 * CPU used by groups of processes between two moments: `start()` reads every process's total,
 * `stop()` reads them again and sums the difference per group. A process that started or ended
 * in between counts from when it was seen (PostgreSQL backends are pooled, so few do).
 */
export class CpuMeter {
  #before = new Map<number, number>()
  constructor(private readonly groups: () => Record<string, number[]>) {}

  start(): void {
    this.#before = new Map()
    for (const pids of Object.values(this.groups())) {
      for (const pid of pids) {
        const seconds = cpuSecondsOf(pid)
        if (seconds !== null) this.#before.set(pid, seconds)
      }
    }
  }

  /** CPU seconds per group since start(). */
  stop(): Record<string, number> {
    const used: Record<string, number> = {}
    for (const [group, pids] of Object.entries(this.groups())) {
      used[group] = 0
      for (const pid of pids) {
        const now = cpuSecondsOf(pid)
        if (now !== null) used[group] += now - (this.#before.get(pid) ?? now)
      }
    }
    return used
  }
}
