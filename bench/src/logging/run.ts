/**
 * bench/logging: CPU per log line, stdout written in batches (createLogger now) beside one
 * write(2) per line (createLogger before), each in its own process logging a request line every
 * millisecond into a pipe that this process reads, as the local cluster reads its instances.
 * Counted: the logging process's CPU and the reader's, per line. Rounds alternate the order.
 *
 *   npm run bench:logging [-- --seconds 5 --rounds 6]
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { median, onCore, pinSelf } from '../machine.js'

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '6' } },
})
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const child = fileURLToPath(new URL('./logging-process.js', import.meta.url))
type Mode = 'per-line' | 'batched'

pinSelf(1)

async function run(mode: Mode): Promise<{ loggerUsPerLine: number; readerUsPerLine: number; bytes: number }> {
  const [command, ...prefix] = [...onCore(0), process.execPath]
  const proc = spawn(command!, [...prefix, child, mode, String(seconds)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let bytes = 0
  let report = ''
  const reader = process.cpuUsage()
  proc.stdout.on('data', (chunk: Buffer) => {
    bytes += chunk.length
  })
  proc.stderr.on('data', (chunk: Buffer) => {
    report += chunk
  })
  await once(proc, 'close')
  const read = process.cpuUsage(reader)
  const { lines, cpuUs } = JSON.parse(report) as { lines: number; cpuUs: number }
  return { loggerUsPerLine: cpuUs / lines, readerUsPerLine: (read.user + read.system) / lines, bytes }
}

const results: Record<Mode, Array<{ loggerUsPerLine: number; readerUsPerLine: number }>> = { 'per-line': [], batched: [] }
for (let round = 1; round <= rounds; round++) {
  for (const mode of (round % 2 ? ['per-line', 'batched'] : ['batched', 'per-line']) as Mode[]) {
    const result = await run(mode)
    results[mode].push(result)
    process.stderr.write(
      `round ${round} ${mode}: logger ${result.loggerUsPerLine.toFixed(1)} µs/line, reader ${result.readerUsPerLine.toFixed(1)} µs/line, ${result.bytes} bytes\n`,
    )
  }
}
const m = (mode: Mode, key: 'loggerUsPerLine' | 'readerUsPerLine') => median(results[mode].map((r) => r[key]))
const row = (mode: Mode, name: string) =>
  `| ${name} | ${m(mode, 'loggerUsPerLine').toFixed(1)} | ${m(mode, 'readerUsPerLine').toFixed(1)} | ${(m(mode, 'loggerUsPerLine') + m(mode, 'readerUsPerLine')).toFixed(1)} |`
const total = (mode: Mode) => m(mode, 'loggerUsPerLine') + m(mode, 'readerUsPerLine')
console.log(`
| stdout (1 line/ms for ${seconds} s, median of ${rounds}) | logging process µs CPU/line | pipe reader µs CPU/line | both |
| --- | ---: | ---: | ---: |
${row('per-line', 'one write per line (baseline)')}
${row('batched', 'batched: 4 KiB or 200 ms')}

batched / per-line: logging process ${(m('batched', 'loggerUsPerLine') / m('per-line', 'loggerUsPerLine')).toFixed(2)}, reader ${(m('batched', 'readerUsPerLine') / m('per-line', 'readerUsPerLine')).toFixed(2)}, both ${(total('batched') / total('per-line')).toFixed(2)}
`)
