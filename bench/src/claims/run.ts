/**
 * bench/claims: listing the claimed shipments (every agent's `GET /shipments?status=PENDING`
 * asks for them) from LockService's index, beside the SCAN of the keyspace it replaced, in the
 * same run, as the keyspace grows with keys that are not claims (sessions, jobs, caches).
 * Both list the same 50 live claims; listings are interleaved in blocks.
 *
 *   npm run bench:claims [-- --claims 50 --keys 0,10000,100000 --iterations 400]
 */
import { parseArgs } from 'node:util'
import { LockService, type ObjectPattern } from '@tms/locks'
import { percentile } from '../machine.js'
import { pinnedRedis } from '../pinned-redis.js'

const { values } = parseArgs({
  options: {
    claims: { type: 'string', default: '50' },
    keys: { type: 'string', default: '0,10000,100000' },
    iterations: { type: 'string', default: '400' },
  },
})
const claims = Number(values.claims)
const keyCounts = values.keys.split(',').map(Number)
const iterations = Number(values.iterations)

const { redis, prefix, done } = await pinnedRedis('claims')
const locks = new LockService({ redis, prefix })
const pattern: ObjectPattern = 'shipment:<id>:claim'
const log = (line: string) => process.stderr.write(`${line}\n`)

/** The listing as it was before the index (lock-service.ts at 3a82e51): SCAN MATCH, 1000 a call. */
async function scanListing(): Promise<Set<string>> {
  const head = `${prefix}shipment:`
  const ids = new Set<string>()
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${head}*:claim`, 'COUNT', 1000)
    cursor = next
    for (const key of keys) {
      const id = key.slice(head.length, key.length - ':claim'.length)
      if (id && !id.includes(':')) ids.add(id)
    }
  } while (cursor !== '0')
  return ids
}

const listings = { scan: scanListing, index: () => locks.getLockedObjectIds(pattern) }
type Listing = keyof typeof listings

async function fill(total: number, already: number): Promise<void> {
  for (let from = already; from < total; from += 1000) {
    const batch = redis.pipeline()
    for (let i = from; i < Math.min(total, from + 1000); i++) batch.set(`${prefix}sess:${i}`, 'x'.repeat(200))
    await batch.exec()
  }
}

try {
  for (let i = 0; i < claims; i++) await locks.lockObject(pattern, `s${i}`, `agent-${i}`, 600_000)
  const rows: string[] = []
  let filled = 0
  for (const keys of keyCounts) {
    await fill(keys, filled)
    filled = Math.max(filled, keys)
    const samples: Record<Listing, number[]> = { scan: [], index: [] }
    for (const who of Object.keys(listings) as Listing[]) {
      const found = await listings[who]()
      if (found.size !== claims) throw new Error(`${who} listed ${found.size} claims, expected ${claims}`)
    }
    for (let block = 0; block < iterations / 20; block++) {
      for (const who of (block % 2 ? ['index', 'scan'] : ['scan', 'index']) as Listing[]) {
        for (let i = 0; i < 20; i++) {
          const started = performance.now()
          await listings[who]()
          samples[who].push(performance.now() - started)
        }
      }
    }
    const p = (who: Listing, q: number) => percentile(samples[who], q)
    rows.push(
      `| ${keys.toLocaleString('en-US')} | ${p('scan', 50).toFixed(3)} | ${p('scan', 99).toFixed(3)} | ${p('index', 50).toFixed(3)} | ${p('index', 99).toFixed(3)} | ${(p('scan', 50) / p('index', 50)).toFixed(1)} |`,
    )
    log(`${keys} other keys: scan p50 ${p('scan', 50).toFixed(3)} ms, index p50 ${p('index', 50).toFixed(3)} ms`)
  }
  console.log(`
| other keys in Redis (${claims} live claims, ${iterations} listings each) | SCAN p50 ms (baseline) | SCAN p99 ms | index p50 ms | index p99 ms | SCAN / index at p50 |
| ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}
`)
} finally {
  await done()
}
