/**
 * One logging process for bench/logging: writes request lines like the API's, one every
 * millisecond, to stdout (a pipe the benchmark reads, as the local cluster or a container
 * runtime does), then prints its own CPU time on stderr and exits.
 *   node logging-process.js batched|per-line <seconds>
 */
import { createLogger, flushLogger } from '@tms/logging'
import { pino } from 'pino'

const [mode, seconds] = [process.argv[2], Number(process.argv[3] ?? 5)]
const logger = createLogger({
  app: 'api',
  version: 'bench',
  instanceId: 'bench-1',
  // The baseline: what createLogger used before batching, one write(2) per line.
  ...(mode === 'per-line' ? { destination: pino.destination({ dest: 1, sync: false }) } : {}),
})
const started = process.cpuUsage()
const until = Date.now() + seconds * 1000
let n = 0
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    n++
    logger.info({ reqId: `req-${n}`, method: 'GET', url: '/shipments?status=PENDING', statusCode: 200, ms: 4.2 }, 'request')
    if (Date.now() >= until) {
      clearInterval(timer)
      resolve()
    }
  }, 1)
})
await flushLogger(logger)
const used = process.cpuUsage(started)
process.stderr.write(`${JSON.stringify({ lines: n, cpuUs: used.user + used.system })}\n`)
