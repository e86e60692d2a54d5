import type { JobRun } from './job-runs.js'

export interface TickReport {
  /** Distinct ticks that ran to success in the window. */
  ticks: number
  /** Ticks that succeeded more than once. */
  duplicates: string[]
  /** Runs of ticks missing between two that ran. */
  gaps: Array<{ after: string; missing: number }>
  /** Ticks missing between the window's edges and the first or last one that ran. */
  missingAtEdges: { start: number; end: number }
  instances: string[]
}

/**
 * Every scheduled tick of a schedule in the window [from, to] (epoch ms), from its run records:
 * how many ran, which ran twice, which never ran. Used by the worker's tests and the deploy
 * rehearsal alike.
 */
export function checkTicks(
  runs: ReadonlyArray<Pick<JobRun, 'trigger' | 'outcome' | 'tick' | 'instance'>>,
  everyMs: number,
  from: number,
  to: number,
): TickReport {
  const succeeded = runs.filter((r) => r.trigger === 'schedule' && r.outcome === 'succeeded' && r.tick !== null)
  const byTick = new Map<number, number>()
  for (const run of succeeded) {
    const tick = Date.parse(run.tick!)
    if (tick < from || tick > to) continue
    byTick.set(tick, (byTick.get(tick) ?? 0) + 1)
  }
  const ticks = [...byTick.keys()].sort((a, b) => a - b)
  const gaps: TickReport['gaps'] = []
  for (let i = 1; i < ticks.length; i++) {
    const missing = Math.round((ticks[i]! - ticks[i - 1]!) / everyMs) - 1
    if (missing > 0) gaps.push({ after: new Date(ticks[i - 1]!).toISOString(), missing })
  }
  const edge = (distance: number) => Math.max(0, Math.ceil(distance / everyMs) - 1)
  return {
    ticks: ticks.length,
    duplicates: [...byTick].filter(([, count]) => count > 1).map(([tick]) => new Date(tick).toISOString()),
    gaps,
    missingAtEdges:
      ticks.length === 0 ? { start: edge(to - from), end: 0 } : { start: edge(ticks[0]! - from), end: edge(to - ticks.at(-1)!) },
    instances: [...new Set(succeeded.map((r) => r.instance))],
  }
}
