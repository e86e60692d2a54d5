/**
 * npm run rehearse:phases -- DIR [DIR ...]: where the latency of finished rehearsals came from.
 *
 * Reads each DIR's report.json (the deploy timeline) and requests.ndjson, pools them, and
 * prints p50/p99 by phase of the cluster (steady, an API instance booting, just joined,
 * draining, workers deploying) and how much slower the newest API instance answered than the
 * others in the same second, by seconds since it joined the balancer.
 */
import { createReadStream, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Report, RequestRecord } from '@tms/rehearsal'
import { latencyByPhase, median, newestInstanceRatios, PHASES } from '@tms/rehearsal'

const dirs = process.argv.slice(2).filter((a) => a !== '--')
if (dirs.length === 0) {
  console.error('usage: npm run rehearse:phases -- DIR [DIR ...]   (report directories of npm run rehearse)')
  process.exit(2)
}

const byPhase = new Map(PHASES.map((p) => [p, { requests: 0, p50: [] as number[], p99: [] as number[] }]))
const byAge: number[][] = []
for (const dir of dirs) {
  const report = JSON.parse(readFileSync(`${dir}/report.json`, 'utf8')) as Report
  // Line by line: a long rehearsal's file is larger than the longest string V8 makes.
  const records: RequestRecord[] = []
  for await (const line of createInterface({
    input: createReadStream(`${dir}/requests.ndjson`),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    if (line) records.push(JSON.parse(line) as RequestRecord)
  }
  for (const p of latencyByPhase(records, report.timeline, report.latency.warmUpMs)) {
    const sum = byPhase.get(p.phase)!
    if (p.requests === 0) continue
    sum.requests += p.requests
    sum.p50.push(p.p50)
    sum.p99.push(p.p99)
  }
  newestInstanceRatios(records, report.timeline).forEach((ratios, age) => {
    byAge[age] = [...(byAge[age] ?? []), ...ratios]
  })
}

console.log(`${dirs.length} rehearsal(s); per phase the median over them of each one's p50 and p99\n`)
console.log(`${'phase'.padEnd(32)}${'requests'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`)
for (const [phase, sum] of byPhase) {
  if (sum.requests === 0) continue
  console.log(
    `${phase.padEnd(32)}${String(sum.requests).padStart(10)}${median(sum.p50).toFixed(2).padStart(10)}${median(sum.p99).toFixed(2).padStart(10)}`,
  )
}
console.log('\nnewest API instance / the others, median latency in the same second, by seconds since it joined')
console.log(byAge.map((r, age) => `${age} s: ${r.length ? `${median(r).toFixed(2)}x` : '-'} (${r.length})`).join('\n'))
