import type { Report } from './report-model.js'

/**
 * report.html: one self-contained page (inline SVG, no scripts, nothing fetched) that opens
 * anywhere, CI artifacts included. Charts share one time axis: requests per second by status,
 * by serving version, p99 latency, and the instances' lives (booting, serving, draining).
 */
const WIDTH = 1100
const LEFT = 60
const RIGHT = 20
const PLOT = WIDTH - LEFT - RIGHT

const STATUS_COLOURS: Array<[(code: number) => boolean, string, string]> = [
  [(c) => c >= 200 && c < 300, '#2e9e5b', '2xx'],
  [(c) => c === 409, '#e0a526', '409 (expected)'],
  [(c) => c >= 400 && c < 500 && c !== 409, '#d96c2a', '4xx'],
  [(c) => c >= 500, '#c62828', '5xx'],
  [(c) => c === 0, '#6a1b9a', 'no answer'],
]
const VERSION_COLOURS = ['#1565c0', '#ef6c00', '#00897b', '#8e24aa', '#6d4c41']

const esc = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')

interface Axis {
  seconds: number
  x: (t: number) => number
}

function frame(
  axis: Axis,
  height: number,
  title: string,
  yMax: number,
  yLabel: string,
  body: string,
  deployBands: string,
): string {
  const ticks = niceTicks(yMax)
  const y = (v: number) => height - 30 - (v / (ticks.at(-1) || 1)) * (height - 50)
  const xTicks = Array.from({ length: Math.floor(axis.seconds / 10) + 1 }, (_, i) => i * 10)
  return `<svg class="chart" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${esc(title)}">
  <text x="${LEFT}" y="14" class="title">${esc(title)}</text>
  ${deployBands}
  ${ticks.map((v) => `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${LEFT - 6}" y="${y(v) + 4}" class="ylabel">${v}</text>`).join('')}
  ${xTicks.map((t) => `<text x="${axis.x(t)}" y="${height - 12}" class="xlabel">${t}s</text>`).join('')}
  <text x="12" y="${height / 2}" class="axis" transform="rotate(-90 12 ${height / 2})">${esc(yLabel)}</text>
  <g>${body}</g>
</svg>`
    .replace(/\{Y:([0-9.]+)\}/g, (_, v: string) => y(Number(v)).toFixed(1))
    .replace(/\{H:([0-9.]+)\}/g, (_, v: string) => (height - 30 - y(Number(v))).toFixed(1))
}

function niceTicks(max: number): number[] {
  if (max <= 0) return [0, 1]
  const step = 10 ** Math.floor(Math.log10(max))
  const nice = [1, 2, 2.5, 5, 10].map((m) => m * step).find((s) => max / s <= 5) ?? step * 10
  return Array.from({ length: Math.ceil(max / nice) + 1 }, (_, i) => Number((i * nice).toPrecision(6)))
}

/** Stacked bars, one per second: `{Y:v}` and `{H:v}` are resolved by frame() against its scale. */
function stackedBars(axis: Axis, series: Array<{ colour: string; label: string; values: number[] }>): string {
  const width = Math.max(1, PLOT / axis.seconds - 0.5)
  const bars: string[] = []
  const seconds = series[0]?.values.length ?? 0
  for (let t = 0; t < seconds; t++) {
    let base = 0
    for (const s of series) {
      const v = s.values[t] ?? 0
      if (v <= 0) continue
      bars.push(
        `<rect x="${axis.x(t).toFixed(1)}" y="{Y:${base + v}}" width="${width.toFixed(1)}" height="{H:${v}}" fill="${s.colour}"><title>${t}s ${esc(s.label)}: ${v}</title></rect>`,
      )
      base += v
    }
  }
  return bars.join('')
}

function legend(items: Array<{ colour: string; label: string; dashed?: boolean }>): string {
  return `<div class="legend">${items
    .map(
      (i) =>
        `<span><i style="background:${i.dashed ? 'transparent' : i.colour};border:${i.dashed ? `2px dashed ${i.colour}` : 'none'}"></i>${esc(i.label)}</span>`,
    )
    .join('')}</div>`
}

const limitOf = (report: Report) => Number(report.settings['max p99 ratio'] ?? 2)

interface Life {
  instance: string
  app: string
  version: string
  started: number
  ready?: number
  draining?: number
  exited?: number
}

function lives(report: Report): Life[] {
  const byInstance = new Map<string, Life>()
  for (const m of report.timeline) {
    if (!m.instance || (m.app !== 'api' && m.app !== 'worker')) continue
    const life = byInstance.get(m.instance) ?? {
      instance: m.instance,
      app: m.app,
      version: m.version ?? '',
      started: Math.max(0, m.t),
    }
    byInstance.set(m.instance, life)
    if (m.action === 'started') life.started = Math.max(0, m.t)
    if (m.action === 'healthy' || m.action === 'ready') life.ready = Math.max(0, m.t)
    if ((m.action === 'lb-drain' || m.action === 'sigterm') && life.draining === undefined) life.draining = m.t
    if (m.action === 'exited') life.exited = m.t
  }
  return [...byInstance.values()].filter((l) => l.exited === undefined || l.exited >= 0)
}

/** One lane per instance: starting, serving, draining and stopping, in its version's colour. */
function instanceLanes(
  report: Report,
  axis: Axis,
  versionColour: (version: string) => string,
  bands: (height: number) => string,
): string {
  const seconds = axis.seconds
  const all = lives(report)
  const laneHeight = 18
  const lanesHeight = 50 + all.length * laneHeight
  const lanes = all
    .map((life, i) => {
      const top = 24 + i * laneHeight
      const colour = versionColour(life.version)
      const end = life.exited ?? seconds
      const ready = life.ready ?? end
      const draining = life.draining ?? end
      const seg = (from: number, to: number, cls: string, what: string) =>
        to > from
          ? `<rect x="${axis.x(from).toFixed(1)}" y="${top}" width="${Math.max(1, axis.x(to) - axis.x(from)).toFixed(1)}" height="${laneHeight - 4}" fill="${colour}" class="${cls}"><title>${esc(`${life.instance} (${life.version}) ${what} ${from.toFixed(1)}s-${to.toFixed(1)}s`)}</title></rect>`
          : ''
      return `<text x="${LEFT - 6}" y="${top + 11}" class="ylabel">${esc(life.instance)}</text>
        ${seg(life.started, Math.min(ready, draining), 'booting', 'starting')}
        ${seg(ready, draining, 'serving', life.app === 'api' ? 'in the load balancer' : 'taking jobs')}
        ${seg(draining, end, 'draining', 'draining and stopping')}`
    })
    .join('')
  return `<svg class="chart" viewBox="0 0 ${WIDTH} ${lanesHeight}" width="${WIDTH}" height="${lanesHeight}" role="img" aria-label="instances">
  <text x="${LEFT}" y="14" class="title">Instances: starting (light), serving (solid), draining and stopping (hatched)</text>
  ${bands(lanesHeight + 20)}
  ${lanes}
  ${Array.from({ length: Math.floor(seconds / 10) + 1 }, (_, i) => `<text x="${axis.x(i * 10)}" y="${lanesHeight - 10}" class="xlabel">${i * 10}s</text>`).join('')}
</svg>`
}

/** The p99 line per second, the steady state and the bar, and the database stalls set aside. */
function latencyChart(report: Report, axis: Axis) {
  const p99Max = Math.max(1, ...report.seconds.map((s) => s.p99), report.latency.steady.p99 * limitOf(report) * 1.1)
  const line = report.seconds.map((s) => `${axis.x(s.t + 0.5).toFixed(1)},{Y:${s.p99.toFixed(2)}}`).join(' ')
  const steady = report.latency.steady.p99
  const limit = limitOf(report)
  const stalls = report.databaseStalls
    .map(
      (stall) =>
        `<rect x="${axis.x(stall.from).toFixed(1)}" y="20" width="${Math.max(2, axis.x(stall.to) - axis.x(stall.from)).toFixed(1)}" height="170" class="stall"><title>database commit stall ${((stall.to - stall.from) * 1000).toFixed(0)} ms at ${stall.from.toFixed(1)}s</title></rect>`,
    )
    .join('')
  const latencyBody = `${stalls}<polyline points="${line}" class="p99"/>
    <line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="{Y:${steady}}" y2="{Y:${steady}}" class="steady"><title>steady p99 ${steady.toFixed(1)} ms</title></line>
    <line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="{Y:${steady * limit}}" y2="{Y:${steady * limit}}" class="limit"><title>${limit}x steady p99</title></line>`
  return { p99Max, steady, limit, latencyBody }
}

const STYLE = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: ${WIDTH + 40}px }
  h1 { font-size: 20px; margin: 0 0 4px } .verdict { padding: 2px 10px; border-radius: 4px; color: #fff }
  .verdict.small { font-size: 11px; padding: 1px 6px } .PASS { background: #2e9e5b } .FAIL { background: #c62828 }
  .settings { color: #555; margin-bottom: 12px }
  table { border-collapse: collapse; margin: 12px 0 } td, th { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top }
  .chart { display: block; margin: 8px 0 0 } .title { font-weight: 600; font-size: 13px }
  .grid { stroke: #eee } .ylabel { font-size: 11px; text-anchor: end; fill: #555 } .xlabel { font-size: 11px; text-anchor: middle; fill: #555 }
  .axis { font-size: 11px; text-anchor: middle; fill: #555 }
  .band { fill: #1565c0; opacity: 0.07 } .band.worker { fill: #00897b }
  .p99 { fill: none; stroke: #c62828; stroke-width: 1.5 } .steady { stroke: #2e9e5b; stroke-dasharray: 4 3 } .limit { stroke: #c62828; stroke-dasharray: 6 4; opacity: 0.6 }
  .stall { fill: #757575; opacity: 0.35 }
  .booting { opacity: 0.35 } .serving { opacity: 0.95 } .draining { opacity: 0.55; stroke: #fff; stroke-dasharray: 2 2 }
  .legend { font-size: 12px; margin: 2px 0 0 ${LEFT}px } .legend span { margin-right: 14px } .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px }
  pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 12px }
`

/** The report as one HTML page: verdicts, the charts drawn as SVG, and the text report. */
export function renderHtml(report: Report, text: string): string {
  const seconds = Math.max(1, report.seconds.length)
  const axis: Axis = { seconds, x: (t) => LEFT + (Math.max(0, Math.min(t, seconds)) / seconds) * PLOT }
  const versions = [...new Set(report.seconds.flatMap((s) => Object.keys(s.byVersion)))].sort((a, b) =>
    a === 'no answer' ? 1 : b === 'no answer' ? -1 : a.localeCompare(b),
  )
  const versionColour = (v: string) =>
    v === 'no answer'
      ? '#6a1b9a'
      : VERSION_COLOURS[versions.filter((x) => x !== 'no answer').indexOf(v) % VERSION_COLOURS.length]!
  const bands = (height: number) =>
    report.deploys
      .map(
        (d) =>
          `<rect x="${axis.x(d.from).toFixed(1)}" y="20" width="${(axis.x(d.to ?? seconds) - axis.x(d.from)).toFixed(1)}" height="${height - 50}" class="band ${d.app}"><title>${esc(d.app)} deploy</title></rect>`,
      )
      .join('')
  const peak = Math.max(1, ...report.seconds.map((s) => Object.values(s.byStatus).reduce((a, b) => a + b, 0)))

  const statusSeries = STATUS_COLOURS.map(([match, colour, label]) => ({
    colour,
    label,
    values: report.seconds.map((s) =>
      Object.entries(s.byStatus)
        .filter(([code]) => match(Number(code)))
        .reduce((sum, [, count]) => sum + count, 0),
    ),
  }))
  const versionSeries = versions.map((v) => ({
    colour: versionColour(v),
    label: v,
    values: report.seconds.map((s) => s.byVersion[v] ?? 0),
  }))

  const { p99Max, steady, limit, latencyBody } = latencyChart(report, axis)
  const lanesSvg = instanceLanes(report, axis, versionColour, bands)
  const verdict = report.passed ? 'PASS' : 'FAIL'
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(report.title)}: ${verdict}</title>
<style>${STYLE}</style></head>
<body>
<h1>${esc(report.title)} <span class="verdict ${verdict}">${verdict}</span></h1>
<div class="settings">${Object.entries(report.settings)
    .map(([k, v]) => `${esc(k)}: <b>${esc(String(v))}</b>`)
    .join(' · ')}</div>
<table><tr><th></th><th>invariant</th><th>measured</th></tr>
${report.invariants.map((i) => `<tr><td><span class="verdict small ${i.held ? 'PASS' : 'FAIL'}">${i.held ? 'PASS' : 'FAIL'}</span></td><td>${esc(i.name)}</td><td>${esc(i.measured)}${i.held || !i.details?.length ? '' : `<br><small>${i.details.map(esc).join('<br>')}</small>`}</td></tr>`).join('\n')}
</table>
${frame(axis, 240, 'Requests per second by status (shaded: deploys; blue API, green workers)', peak, 'requests/s', stackedBars(axis, statusSeries), bands(240))}
${legend(statusSeries.map((s) => ({ colour: s.colour, label: s.label })))}
${frame(axis, 240, 'Requests per second by the version that answered', peak, 'requests/s', stackedBars(axis, versionSeries), bands(240))}
${legend(versionSeries.map((s) => ({ colour: s.colour, label: s.label })))}
${frame(axis, 220, 'p99 latency per second (ms)', p99Max, 'ms', latencyBody, bands(220))}
${legend([
  { colour: '#c62828', label: 'p99 of the second' },
  { colour: '#2e9e5b', label: `steady-state p99 ${steady.toFixed(1)} ms`, dashed: true },
  { colour: '#c62828', label: `limit: ${limit}x steady`, dashed: true },
  { colour: '#757575', label: `database commit stalls (${report.databaseStalls.length}), set aside` },
])}
${lanesSvg}
${legend(versions.filter((v) => v !== 'no answer').map((v) => ({ colour: versionColour(v), label: v })))}
<h2>Report</h2>
<pre>${esc(text)}</pre>
</body></html>
`
}
