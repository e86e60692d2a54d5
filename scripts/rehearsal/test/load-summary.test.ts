import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import t from 'tap'
import { perSecond, summarize } from '../src/load-summary.js'
import { writeRequests } from '../src/report.js'
import type { RequestRecord } from '../src/request-record.js'

const record = (i: number, rate: number): RequestRecord => ({
  scheduledAt: (i * 1000) / rate,
  sentAt: (i * 1000) / rate,
  latencyMs: 1 + (i % 100) / 10,
  route: 'GET /shipments',
  actor: 'agent',
  authenticated: true,
  status: i % 1000 === 0 ? 503 : 200,
  outcome: i % 1000 === 0 ? 'failed' : 'ok',
  ...(i % 1000 === 0 ? { note: 'no answer' } : {}),
  version: '1',
  instance: 'api-1',
  bytesIn: 100,
  bytesOut: 10,
})

t.test('a load of 2 million requests is summarised (a long rehearsal at 300/s has that many)', async (t) => {
  const rate = 300
  const records = Array.from({ length: 2_000_000 }, (_, i) => record(i, rate))
  const summary = summarize(records)
  t.equal(summary.requests.total, 2_000_000)
  t.equal(summary.duration.attack, (1_999_999 * 1000) / rate, 'first to last request sent')
  t.equal(summary.latencies.min, 1)
  t.equal(summary.latencies.max, 10.9)
  t.equal(summary.success, 0.999, 'one in a thousand failed')
  t.equal(summary.bytesIn.total, 200_000_000)
  t.ok(Math.abs(summary.requests.rate - rate) < 0.01, `rate ${summary.requests.rate}`)
  const seconds = perSecond(records)
  t.equal(seconds.length, Math.floor((1_999_999 * 1000) / rate / 1000) + 1, 'one bucket per second')
})

t.test('no records: zeros, not NaN or Infinity', async (t) => {
  const summary = summarize([])
  t.same(summary.requests, { total: 0, rate: 0, throughput: 0 })
  t.same(summary.duration, { total: 0, attack: 0, wait: 0 })
  t.equal(summary.latencies.max, 0)
})

t.test('the requests file is written in pieces, every record one line', async (t) => {
  const dir = mkdtempSync(`${tmpdir()}/tms-report-`)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const records = Array.from({ length: 25_001 }, (_, i) => record(i, 300))
  writeRequests(`${dir}/requests.ndjson`, records)
  const lines = readFileSync(`${dir}/requests.ndjson`, 'utf8').split('\n')
  t.equal(lines.pop(), '', 'ends with a line break')
  t.equal(lines.length, 25_001, 'every record, across three writes')
  t.same(JSON.parse(lines[10_000]!), records[10_000])
  t.same(JSON.parse(lines[25_000]!), records[25_000])
})
