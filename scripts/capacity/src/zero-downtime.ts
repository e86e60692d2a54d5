/**
 * The zero-downtime capacity: the highest rate at which a rehearsal still passes every invariant
 * (p99 during deploys at most --max-latency-ratio times steady included), in every stop order
 * asked for, with its steady state within capacity (p99 under the capacity bar: past it, a
 * saturated steady state makes "during deploys / steady" look good). `rehearse --rate auto
 * --zero-downtime` finds it by share of the measured capacity.
 */

/** The share of the measured capacity `--rate auto` loads at: room for a deploy. */
export const AUTO_RATE_SHARE = 0.7

/** The shares tried after AUTO_RATE_SHARE, in order, until one fails. */
export const ZERO_DOWNTIME_SHARES: ReadonlyArray<number> = [0.8, 0.9, 1.0]

export interface ShareOutcome {
  share: number
  rate: number
  passed: boolean
  /** Per stop order, what failed: the invariants' names. */
  failed: string[]
}

/** What keeps one rehearsal's rate from being a zero-downtime rate; empty when nothing does. */
export function failuresAt(
  report: { invariants: ReadonlyArray<{ name: string; held: boolean }>; latency: { steady: { p99: number } } },
  maxSteadyP99Ms: number,
): string[] {
  const failed = report.invariants.filter((i) => !i.held).map((i) => i.name)
  if (report.latency.steady.p99 >= maxSteadyP99Ms) {
    failed.push(`steady p99 ${report.latency.steady.p99.toFixed(0)} ms, past capacity (${maxSteadyP99Ms} ms)`)
  }
  return failed
}

/** The highest share that passed with every share below it passing too; null when the first failed. */
export function zeroDowntimeCapacity(outcomes: ReadonlyArray<ShareOutcome>): ShareOutcome | null {
  let best: ShareOutcome | null = null
  for (const outcome of [...outcomes].sort((a, b) => a.share - b.share)) {
    if (!outcome.passed) break
    best = outcome
  }
  return best
}

/** What a person reads: the capacity, each share's outcome, and the zero-downtime capacity. */
export function describeZeroDowntime(capacity: number, outcomes: ReadonlyArray<ShareOutcome>): string {
  const best = zeroDowntimeCapacity(outcomes)
  const tried = [...outcomes].sort((a, b) => a.share - b.share)
  const last = tried.at(-1)
  const bound =
    best === null
      ? `below ${tried[0]?.rate ?? '?'}/s (${pct(tried[0]?.share ?? 0)} of capacity failed)`
      : best === last && best.share >= Math.max(...ZERO_DOWNTIME_SHARES)
        ? `at least ${best.rate}/s (${pct(best.share)} of capacity, the most tried)`
        : `${best.rate}/s (${pct(best.share)} of capacity; ${tried[tried.indexOf(best) + 1]?.rate}/s failed)`
  return [
    `capacity ${capacity}/s (steady, p99 < 100 ms, generator on schedule)`,
    ...tried.map(
      (o) => `  ${pct(o.share).padStart(4)}  ${`${o.rate}/s`.padEnd(7)} ${o.passed ? 'PASS' : `FAIL  ${o.failed.join('; ')}`}`,
    ),
    `zero-downtime capacity: ${bound}`,
  ].join('\n')
}

const pct = (share: number) => `${Math.round(share * 100)}%`
