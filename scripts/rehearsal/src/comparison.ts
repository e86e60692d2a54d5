import type { DeployStrategy } from '@tms/cluster'
import type { InvariantId } from './invariant-model.js'
import type { StateMode } from './rehearsal-options.js'
import type { Report } from './report.js'

/** Why stateless, each step measured: recreate, rolling with state in each process, rolling stateless; what should go wrong, and what should not. */
export interface Scenario {
  slug: string
  name: string
  strategy: DeployStrategy
  state: StateMode
  /** Which invariants this scenario is expected to break (at least one of them); none for the last. */
  expectedToBreak: InvariantId[]
}

export const expectations: Scenario[] = [
  {
    slug: 'recreate',
    name: 'recreate (stop all, start all)',
    strategy: 'recreate',
    state: 'stateless',
    expectedToBreak: ['answered'],
  },
  {
    slug: 'rolling-in-process',
    name: 'rolling, state in each process',
    strategy: 'rolling',
    state: 'in-process',
    expectedToBreak: ['sessions', 'packs', 'writes'],
  },
  {
    slug: 'rolling-stateless',
    name: 'rolling, stateless',
    strategy: 'rolling',
    state: 'stateless',
    expectedToBreak: [],
  },
]

export interface ComparedRun {
  scenario: Scenario
  report: Report
}

const COLUMNS: Array<[InvariantId, string]> = [
  ['answered', 'failed requests'],
  ['sessions', 'sessions lost'],
  ['packs', 'double packs/claims'],
  ['writes', 'writes unreadable'],
  ['ticks', 'ticks twice/missed'],
  ['shop', 'shop not told'],
]

export function renderComparison(runs: ComparedRun[]): {
  text: string
  rows: Array<Record<string, string | number | boolean>>
  storyHolds: boolean
} {
  const rows = runs.map(({ scenario, report }): Record<string, string | number | boolean> => {
    const violations = (id: InvariantId) => report.invariants.find((i) => i.id === id)?.violations ?? 0
    const broke = report.invariants.filter((i) => !i.held).map((i) => i.id)
    const asExpected =
      scenario.expectedToBreak.length === 0 ? report.passed : scenario.expectedToBreak.some((id) => broke.includes(id))
    return {
      scenario: scenario.name,
      requests: report.summary.requests.total,
      success: `${(Math.floor(report.summary.success * 10_000) / 100).toFixed(2)}%`,
      ...Object.fromEntries(COLUMNS.map(([id, label]) => [label, violations(id)])),
      'p99 steady -> deploy': `${report.latency.steady.p99.toFixed(0)} -> ${report.latency.deploy.p99.toFixed(0)} ms`,
      result: report.passed ? 'PASS' : 'FAIL',
      'as the story says': asExpected,
    }
  })
  const headers = Object.keys(rows[0] ?? {})
  const cell = (value: string | number | boolean) => (typeof value === 'boolean' ? (value ? 'yes' : 'NO') : String(value))
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => cell(r[h]!).length)))
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`
  const text = [
    line(headers),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(headers.map((h) => cell(r[h]!)))),
    '',
    'recreate: requests fail while no instance runs. State in each process: a session, a claim or',
    'a cached count lives in one instance and is gone or different in the next. Stateless: nothing to lose.',
  ].join('\n')
  return { text: `${text}\n`, rows, storyHolds: rows.every((r) => r['as the story says'] === true) }
}
