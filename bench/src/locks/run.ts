/**
 * bench/locks: our LockService (FIFO queue + fencing + bounded refresh, on redis-semaphore)
 * beside a plain redis-semaphore Mutex as it comes, in the same run:
 *  - uncontended acquire+release latency (p50/p99), interleaved in blocks;
 *  - contended throughput: workers looping on one key with a tiny critical section;
 *  - fairness: 20 waiters arriving 5 ms apart behind a holder; how many get overtaken.
 *
 *   npm run bench:locks [-- --iterations 3000 --workers 8 --seconds 5 --rounds 3]
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { LockService } from '@tms/locks'
import { uniqueName } from '@tms/testing'
import { Mutex } from 'redis-semaphore'
import { median, percentile } from '../machine.js'
import { pinnedRedis } from '../pinned-redis.js'

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '3000' },
    workers: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
  },
})
const iterations = Number(values.iterations)
const workers = Number(values.workers)
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)

const { redis, prefix, done } = await pinnedRedis('locks')
const locks = new LockService({ redis, prefix: `${prefix}ours:`, acquireTimeoutMs: 60_000 })
const plainMutex = (key: string) => new Mutex(redis, `${prefix}plain:${key}`, { acquireTimeout: 60_000 })
const log = (line: string) => process.stderr.write(`${line}\n`)

type Contender = 'ours' | 'plain'
const once: Record<Contender, (key: string, action: () => Promise<void>) => Promise<void>> = {
  ours: (key, action) => locks.runWithLock(key, action),
  plain: async (key, action) => {
    const mutex = plainMutex(key)
    await mutex.acquire()
    try {
      await action()
    } finally {
      await mutex.release()
    }
  },
}

async function uncontended(): Promise<Record<Contender, number[]>> {
  const samples: Record<Contender, number[]> = { ours: [], plain: [] }
  for (const who of ['ours', 'plain'] as Contender[]) for (let i = 0; i < 200; i++) await once[who]('warm', async () => {})
  for (let block = 0; block < iterations / 100; block++) {
    for (const who of (block % 2 ? ['plain', 'ours'] : ['ours', 'plain']) as Contender[]) {
      for (let i = 0; i < 100; i++) {
        const started = performance.now()
        await once[who]('uncontended', async () => {})
        samples[who].push(performance.now() - started)
      }
    }
  }
  return samples
}

async function contended(who: Contender): Promise<{ perSecond: number; maxWaitMs: number }> {
  const key = `contended-${uniqueName()}`
  const until = Date.now() + seconds * 1000
  let acquisitions = 0
  let maxWaitMs = 0
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < until) {
        const asked = performance.now()
        await once[who](key, async () => {
          maxWaitMs = Math.max(maxWaitMs, performance.now() - asked)
          acquisitions++
          await redis.incr(`${prefix}work`)
        })
      }
    }),
  )
  return { perSecond: acquisitions / seconds, maxWaitMs }
}

async function fairness(who: Contender): Promise<number> {
  const key = `fair-${uniqueName()}`
  const served: number[] = []
  let arrivals = 0
  const holding = once[who](key, () => sleep(20 * 5 + 150))
  await sleep(10)
  await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      await sleep(5 * i)
      const arrival = arrivals++
      await once[who](key, async () => {
        served.push(arrival)
        await sleep(2)
      })
    }),
  )
  await holding
  return served.filter((arrival, position) => served.slice(position + 1).some((later) => later < arrival)).length
}

try {
  log('uncontended acquire+release...')
  const latency = await uncontended()
  const throughput: Record<Contender, number[]> = { ours: [], plain: [] }
  const maxWait: Record<Contender, number[]> = { ours: [], plain: [] }
  for (let round = 1; round <= rounds; round++) {
    for (const who of (round % 2 ? ['ours', 'plain'] : ['plain', 'ours']) as Contender[]) {
      const result = await contended(who)
      throughput[who].push(result.perSecond)
      maxWait[who].push(result.maxWaitMs)
      log(
        `contended round ${round} ${who}: ${result.perSecond.toFixed(0)} acquisitions/s, longest wait ${result.maxWaitMs.toFixed(0)} ms`,
      )
    }
  }
  const overtaken: Record<Contender, number[]> = { ours: [], plain: [] }
  for (let run = 1; run <= 3; run++) for (const who of ['ours', 'plain'] as Contender[]) overtaken[who].push(await fairness(who))

  const row = (who: Contender, name: string) =>
    `| ${name} | ${percentile(latency[who], 50).toFixed(2)} | ${percentile(latency[who], 99).toFixed(2)} | ${median(throughput[who]).toFixed(0)} | ${median(maxWait[who]).toFixed(0)} | ${overtaken[who].join(', ')} |`
  console.log(`
| lock (${iterations} uncontended, ${workers} workers x ${seconds} s contended, median of ${rounds}) | acquire+release p50 ms | p99 ms | contended acquisitions/s | longest wait ms | waiters overtaken of 20 (3 runs) |
| --- | ---: | ---: | ---: | ---: | --- |
${row('plain', 'plain redis-semaphore Mutex (baseline)')}
${row('ours', 'TMS LockService.runWithLock (FIFO, fenced, bounded refresh)')}

uncontended p50 ours / plain = ${(percentile(latency.ours, 50) / percentile(latency.plain, 50)).toFixed(2)}; p99 ours / plain = ${(percentile(latency.ours, 99) / percentile(latency.plain, 99)).toFixed(2)}; contended throughput ours / plain = ${(median(throughput.ours) / median(throughput.plain)).toFixed(2)}
`)
} finally {
  await done()
}
