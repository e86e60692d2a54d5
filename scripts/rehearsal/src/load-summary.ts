import type { RequestRecord } from './request-record.js'

/** What vegeta's text report shows, from our records. Times in ms. */
export interface LoadSummary {
  requests: { total: number; rate: number; throughput: number }
  duration: { total: number; attack: number; wait: number }
  latencies: { min: number; mean: number; p50: number; p90: number; p95: number; p99: number; max: number }
  bytesIn: { total: number; mean: number }
  bytesOut: { total: number; mean: number }
  /** Answered as the journey expects (2xx, or a business answer such as a lost claim race). */
  success: number
  statusCodes: Record<string, number>
  /** Expected business answers by what they mean. */
  expected: Record<string, number>
  /** Failures by what went wrong, as vegeta's error set. */
  errors: Record<string, number>
  /** Requests answered per serving version. */
  versions: Record<string, number>
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** The median of values in any order (0 for none). */
export const median = (values: ReadonlyArray<number>): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  )

const countBy = (records: ReadonlyArray<RequestRecord>, key: (r: RequestRecord) => string | undefined) => {
  const counts: Record<string, number> = {}
  for (const record of records) {
    const k = key(record)
    if (k !== undefined) counts[k] = (counts[k] ?? 0) + 1
  }
  return counts
}

/**
 * One pass over the records: no spread into Math.max, whose arguments live on the stack (it
 * threw past about 125,000 records, a 7-minute rehearsal at 300/s).
 */
function extent(records: ReadonlyArray<RequestRecord>) {
  let firstSent = Number.POSITIVE_INFINITY
  let lastSent = 0
  let end = 0
  let ok = 0
  let good = 0
  let bytesIn = 0
  let bytesOut = 0
  for (const r of records) {
    if (r.sentAt < firstSent) firstSent = r.sentAt
    if (r.sentAt > lastSent) lastSent = r.sentAt
    if (r.sentAt + r.latencyMs > end) end = r.sentAt + r.latencyMs
    if (r.outcome === 'ok') ok++
    if (r.outcome !== 'failed') good++
    bytesIn += r.bytesIn
    bytesOut += r.bytesOut
  }
  return { firstSent: records.length === 0 ? 0 : firstSent, lastSent, end, ok, good, bytesIn, bytesOut }
}

export function summarize(records: ReadonlyArray<RequestRecord>): LoadSummary {
  const total = records.length
  const latencies = Float64Array.from(records, (r) => r.latencyMs).sort()
  const { firstSent, lastSent, end, ok, good, bytesIn, bytesOut } = extent(records)
  const attack = lastSent - firstSent
  let latencySum = 0
  for (const latency of latencies) latencySum += latency
  const seconds = (ms: number) => ms / 1000
  return {
    requests: {
      total,
      rate: attack > 0 ? total / seconds(attack) : 0,
      throughput: end > 0 ? ok / seconds(end - firstSent) : 0,
    },
    duration: { total: end, attack, wait: Math.max(0, end - lastSent) },
    latencies: {
      min: latencies[0] ?? 0,
      mean: total ? latencySum / total : 0,
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? 0,
    },
    bytesIn: { total: bytesIn, mean: total ? bytesIn / total : 0 },
    bytesOut: { total: bytesOut, mean: total ? bytesOut / total : 0 },
    success: total ? good / total : 0,
    statusCodes: countBy(records, (r) => String(r.status)),
    expected: countBy(records, (r) => (r.outcome === 'expected' ? `${r.status} ${r.note}` : undefined)),
    errors: countBy(records, (r) => (r.outcome === 'failed' ? `${r.route}: ${r.note ?? r.status}` : undefined)),
    versions: countBy(records, (r) => r.version ?? (r.status === 0 ? 'no answer' : 'unknown')),
  }
}

/** One second of the load, for the timeline chart. */
export interface Second {
  /** Seconds since the load began. */
  t: number
  byStatus: Record<string, number>
  byVersion: Record<string, number>
  failed: number
  p99: number
}

export function perSecond(records: ReadonlyArray<RequestRecord>): Second[] {
  const buckets = new Map<number, RequestRecord[]>()
  for (const record of records) {
    const t = Math.floor(record.sentAt / 1000)
    const bucket = buckets.get(t)
    if (bucket) bucket.push(record)
    else buckets.set(t, [record])
  }
  let last = -1
  for (const t of buckets.keys()) if (t > last) last = t
  return Array.from({ length: last + 1 }, (_, t) => {
    const bucket = buckets.get(t) ?? []
    return {
      t,
      byStatus: countBy(bucket, (r) => String(r.status)),
      byVersion: countBy(bucket, (r) => r.version ?? 'no answer'),
      failed: bucket.filter((r) => r.outcome === 'failed').length,
      p99: percentile(
        bucket.map((r) => r.latencyMs).sort((a, b) => a - b),
        99,
      ),
    }
  })
}

export interface LatencyComparison {
  warmUpMs: number
  steady: { requests: number; p99: number }
  deploy: { requests: number; p99: number }
  ratio: number
  /** Requests in flight while the database stalled every commit (see CommitProbe), set aside. */
  setAside: { stalls: number; longestStallMs: number; requests: number; steady: number; deploy: number }
  /** The same comparison with nothing set aside. */
  raw: { steadyP99: number; deployP99: number; ratio: number }
}

/**
 * p99 latency of the requests sent inside the windows (during deploys) and outside them after
 * the warm-up (the steady state: the first seconds pay for cold JIT, pools and caches, which
 * would flatter the ratio). Requests caught by a database commit stall (times in ms since the
 * load began) are set aside on both sides: the disk stalls whether or not we deploy.
 */
export function latencyDuringDeploys(
  records: ReadonlyArray<RequestRecord>,
  windows: ReadonlyArray<{ from: number; to: number }>,
  warmUpMs: number,
  stalls: ReadonlyArray<{ from: number; to: number }> = [],
): LatencyComparison {
  const inside = (r: RequestRecord) => windows.some((w) => r.sentAt >= w.from && r.sentAt <= w.to)
  // In flight during the stall, or sent while the backlog it left drains (as long again).
  const stalled = (r: RequestRecord) => stalls.some((s) => r.sentAt < s.to + (s.to - s.from) && r.sentAt + r.latencyMs > s.from)
  const p99 = (list: RequestRecord[]) =>
    percentile(
      list.map((r) => r.latencyMs).sort((a, b) => a - b),
      99,
    )
  const ratioOf = (deploy: number, steady: number) => (steady > 0 ? deploy / steady : 0)
  const measured = records.filter((r) => r.sentAt >= warmUpMs || inside(r))
  const deployAll = measured.filter(inside)
  const steadyAll = measured.filter((r) => !inside(r))
  const deploy = deployAll.filter((r) => !stalled(r))
  const steady = steadyAll.filter((r) => !stalled(r))
  const result = {
    warmUpMs,
    steady: { requests: steady.length, p99: p99(steady) },
    deploy: { requests: deploy.length, p99: p99(deploy) },
  }
  const raw = { steadyP99: p99(steadyAll), deployP99: p99(deployAll) }
  return {
    ...result,
    ratio: ratioOf(result.deploy.p99, result.steady.p99),
    setAside: {
      stalls: stalls.length,
      longestStallMs: stalls.reduce((longest, s) => Math.max(longest, s.to - s.from), 0),
      requests: measured.length - deploy.length - steady.length,
      steady: steadyAll.length - steady.length,
      deploy: deployAll.length - deploy.length,
    },
    raw: { ...raw, ratio: ratioOf(raw.deployP99, raw.steadyP99) },
  }
}
