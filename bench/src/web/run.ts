/**
 * npm run bench:web: how soon the packing station is usable from a cold cache, beside the
 * smallest page the same API serves through the same browser (the baseline: what the machine,
 * Chromium and one HTTP round trip cost anyway). Each round opens a fresh browser context (no
 * cache, no storage), loads the page and waits until the login form's button can be clicked;
 * the baseline loads /health/live in a fresh context the same way.
 *
 *   npm run bench:web -- [--rounds 20]
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { chromiumLaunchOptions } from '@tms/config'
import { deleteKeys, dropSchema, ensureTestDatabase, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from '@tms/testing'
import { chromium } from 'playwright-core'
import { startBenchApi } from '../api-process.js'
import { median } from '../machine.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' } } })
const rounds = Number(values.rounds)
const WEB_DIST = fileURLToPath(new URL('../../../apps/web/dist/index.html', import.meta.url))

await ensureTestDatabase()
const dbUrl = new URL(TEST_DATABASE_URL)
const schema = uniqueName('bench')
dbUrl.searchParams.set('schema', schema)
const prefix = `bench:${uniqueName('web')}:`
const { child, base } = await startBenchApi({ name: 'api-web', redisPrefix: prefix, databaseUrl: dbUrl.toString(), wrapper: [] })
const browser = await chromium.launch(chromiumLaunchOptions())

/** Milliseconds from navigation to `ready`, in a context with an empty cache; and the page's own timings. */
async function load(url: string, ready: (page: import('playwright-core').Page) => Promise<unknown>) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const started = performance.now()
  await page.goto(url, { waitUntil: 'commit' })
  await ready(page)
  const ms = performance.now() - started
  // A string: this package is compiled for Node, without the DOM's types.
  const timing = (await page.evaluate(
    `(({ domInteractive, transferSize }) => ({ domInteractive, transferSize }))(performance.getEntriesByType('navigation')[0])`,
  )) as { domInteractive: number; transferSize: number }
  await context.close()
  return { ms, ...timing }
}

const station: Array<{ ms: number; domInteractive: number; transferSize: number }> = []
const baseline: number[] = []
try {
  for (let round = 1; round <= rounds; round++) {
    // Alternate which goes first, so neither always meets a warmer browser.
    const measureStation = () =>
      load(`${base}/`, (page) => page.getByRole('button', { name: 'Log in' }).and(page.locator(':enabled')).waitFor())
    const measureBaseline = () => load(`${base}/health/live`, (page) => page.locator('body').waitFor())
    if (round % 2) {
      station.push(await measureStation())
      baseline.push((await measureBaseline()).ms)
    } else {
      baseline.push((await measureBaseline()).ms)
      station.push(await measureStation())
    }
    process.stderr.write(
      `round ${round}/${rounds}: station ${station.at(-1)!.ms.toFixed(0)} ms, baseline ${baseline.at(-1)!.toFixed(0)} ms\n`,
    )
  }
} finally {
  await browser.close()
  child.process.kill('SIGTERM')
  await child.exited
  await deleteKeys(TEST_REDIS_URL, `${prefix}*`)
  await dropSchema(TEST_DATABASE_URL, schema)
}

const html = readFileSync(WEB_DIST)
const stationMs = median(station.map((s) => s.ms))
const baselineMs = median(baseline)
console.log(`bundle: index.html ${(html.length / 1024).toFixed(1)} KB, ${(gzipSync(html).length / 1024).toFixed(1)} KB gzipped`)
console.log(`cold load to a clickable "Log in", median of ${rounds}: ${stationMs.toFixed(0)} ms`)
console.log(`  page's own domInteractive, median: ${median(station.map((s) => s.domInteractive)).toFixed(0)} ms`)
console.log(`baseline (/health/live in a fresh context), median: ${baselineMs.toFixed(0)} ms`)
console.log(`station / baseline: ${(stationMs / baselineMs).toFixed(2)}x`)
