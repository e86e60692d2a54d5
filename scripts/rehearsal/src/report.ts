import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs'
import { renderHtml } from './report-html.js'
import type { Report } from './report-model.js'
import type { RequestRecord } from './request-record.js'

export type { Marker, Report } from './report-model.js'

function duration(ms: number): string {
  if (ms >= 60_000) return `${Math.floor(ms / 60_000)}m${((ms % 60_000) / 1000).toFixed(3)}s`
  if (ms >= 1000) return `${(ms / 1000).toFixed(3)}s`
  if (ms >= 1) return `${ms.toFixed(3)}ms`
  return `${(ms * 1000).toFixed(0)}µs`
}

/**
 * The generator's lag past which the machine, not the deploy, was the bottleneck (the lags
 * seen with and without saturation: docs/rehearsal.md).
 */
const SATURATED_LAG_MS = 50

const row = (label: string, fields: string, values: string) => `${label.padEnd(14)}${fields.padEnd(44)}${values}`

/** vegeta's text report, then what vegeta cannot know: expected answers, versions, invariants. */
export function renderText(report: Report): string {
  const s = report.summary
  const l = s.latencies
  const lines = [
    row(
      'Requests',
      '[total, rate, throughput]',
      `${s.requests.total}, ${s.requests.rate.toFixed(2)}, ${s.requests.throughput.toFixed(2)}`,
    ),
    row('Duration', '[total, attack, wait]', [s.duration.total, s.duration.attack, s.duration.wait].map(duration).join(', ')),
    row(
      'Latencies',
      '[min, mean, 50, 90, 95, 99, max]',
      [l.min, l.mean, l.p50, l.p90, l.p95, l.p99, l.max].map(duration).join(', '),
    ),
    row('Bytes In', '[total, mean]', `${s.bytesIn.total}, ${s.bytesIn.mean.toFixed(2)}`),
    row('Bytes Out', '[total, mean]', `${s.bytesOut.total}, ${s.bytesOut.mean.toFixed(2)}`),
    row('Success', '[ratio]', `${(Math.floor(s.success * 10_000) / 100).toFixed(2)}%`),
    row(
      'Status Codes',
      '[code:count]',
      Object.entries(s.statusCodes)
        .map(([code, count]) => `${code}:${count}`)
        .join('  '),
    ),
    'Error Set:',
    ...Object.entries(s.errors).map(([error, count]) => `${error} (x${count})`),
    '',
    row(
      'Expected',
      '[answer:count]',
      Object.entries(s.expected)
        .map(([answer, count]) => `${answer}:${count}`)
        .join('  ') || 'none',
    ),
    row(
      'Versions',
      '[version:count]',
      Object.entries(s.versions)
        .map(([version, count]) => `${version}:${count}`)
        .join('  '),
    ),
    row(
      'Latency p99',
      '[steady, during deploys, ratio]',
      `${duration(report.latency.steady.p99)}, ${duration(report.latency.deploy.p99)}, ${report.latency.ratio.toFixed(2)}x`,
    ),
    row(
      'Latency p99',
      '[raw: steady, during deploys, ratio]',
      `${duration(report.latency.raw.steadyP99)}, ${duration(report.latency.raw.deployP99)}, ${report.latency.raw.ratio.toFixed(2)}x`,
    ),
    row(
      'DB stalls',
      '[count, longest, set aside steady, deploy]',
      report.settings.target
        ? 'not measured: the probe needs the database, which a target does not give'
        : `${report.latency.setAside.stalls}, ${duration(report.latency.setAside.longestStallMs)}, ${report.latency.setAside.steady}, ${report.latency.setAside.deploy}`,
    ),
    row(
      'Load',
      '[planned, ran]',
      `${duration(report.load.plannedSeconds * 1000)}, ${duration(report.load.seconds * 1000)}${report.load.seconds > report.load.plannedSeconds ? ' (extended while a deploy ran)' : ''}`,
    ),
    row(
      'Deploys',
      '[app: took]',
      report.deploys.map((d) => `${d.app}: ${d.to === null ? 'unfinished' : duration((d.to - d.from) * 1000)}`).join(', ') ||
        'none',
    ),
    row('Generator', '[max lag]', duration(report.generatorMaxLagMs)),
    ...(report.generatorMaxLagMs > SATURATED_LAG_MS
      ? [
          `Note: the load generator fell up to ${duration(report.generatorMaxLagMs)} behind its schedule: the machine itself was`,
          'saturated, and latencies (and deploy times) measure it more than the deploy. Lower --rate.',
        ]
      : []),
    '',
    'Invariants:',
    ...report.invariants.flatMap((i) => [
      `  ${i.held ? 'PASS' : 'FAIL'}  ${i.name}: ${i.measured}`,
      ...(i.held ? [] : (i.details ?? []).map((d) => `          ${d}`)),
    ]),
    '',
    'Deploy timeline (seconds since the load began):',
    ...report.timeline.map(
      (m) =>
        `  ${`${m.t < 0 ? '' : '+'}${m.t.toFixed(1)}s`.padStart(8)}  ${m.app.padEnd(7)} ${m.action.padEnd(13)} ${m.instance ?? ''}${m.version ? ` (${m.version})` : ''}${m.detail ? `  ${m.detail}` : ''}`,
    ),
    '',
    `Result: ${report.passed ? 'PASS' : 'FAIL'}`,
  ]
  return `${lines.join('\n')}\n`
}

/** The report three ways (DIR/report.txt, report.json, report.html), and DIR/requests.ndjson. */
export function writeReport(dir: string, report: Report, records: ReadonlyArray<RequestRecord>): void {
  mkdirSync(dir, { recursive: true })
  writeRequests(`${dir}/requests.ndjson`, records)
  const text = renderText(report)
  writeFileSync(`${dir}/report.txt`, text)
  writeFileSync(`${dir}/report.json`, `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(`${dir}/report.html`, renderHtml(report, text))
}

/**
 * Every request as one JSON line (vegeta's results, readable), 10,000 lines per write: the
 * whole file as one string passes V8's longest string at about 2 million requests.
 */
export function writeRequests(path: string, records: ReadonlyArray<RequestRecord>): void {
  const file = openSync(path, 'w')
  try {
    for (let from = 0; from < records.length; from += 10_000) {
      writeSync(
        file,
        records
          .slice(from, from + 10_000)
          .map((r) => `${JSON.stringify(r)}\n`)
          .join(''),
      )
    }
  } finally {
    closeSync(file)
  }
}
