/**
 * bench/attacks: what the attacks of docs/security.md cost and get, measured on two real API
 * processes with production's defaults (scrypt N=2^17, the login limits), clients on their own
 * loopback addresses (127.0.0.2 guesses, 127.0.0.3 is the owner, 127.0.0.4 measures).
 *
 *   npm run bench:attacks [-- --hostile 1000 --logins 5]
 */
import { request } from 'node:http'
import { parseArgs } from 'node:util'
import { deleteKeys, dropSchema, ensureTestDatabase, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from '@tms/testing'
import { BENCH_ADMIN, startBenchApi } from '../api-process.js'
import { cpuSeconds, median, percentile } from '../machine.js'

const { values } = parseArgs({
  options: {
    hostile: { type: 'string', default: '1000' },
    logins: { type: 'string', default: '5' },
  },
})

interface Answer {
  status: number
  bytes: number
  ms: number
}

/** One request from `from` (a loopback address of its own), timed to the last byte. */
function send(base: string, from: string, method: string, path: string, body?: string, cookie?: string): Promise<Answer> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, base),
      {
        method,
        localAddress: from,
        agent: false,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
          ...(cookie ? { cookie } : {}),
        },
      },
      (res) => {
        let bytes = 0
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - started }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

const count = (answers: Answer[]) => {
  const by = new Map<number, number>()
  for (const a of answers) by.set(a.status, (by.get(a.status) ?? 0) + 1)
  return [...by]
    .sort(([a], [b]) => a - b)
    .map(([status, n]) => `${status} ×${n}`)
    .join(', ')
}

await ensureTestDatabase()
const schema = uniqueName('bench_attacks')
const prefix = `bench:${uniqueName('attacks')}:`
const url = new URL(TEST_DATABASE_URL)
url.searchParams.set('schema', schema)
const apis: Array<Awaited<ReturnType<typeof startBenchApi>>> = []
try {
  process.stderr.write('starting two API processes (production defaults) …\n')
  for (const name of ['api-1', 'api-2']) {
    apis.push(
      await startBenchApi({
        name,
        redisPrefix: prefix,
        databaseUrl: url.toString(),
        wrapper: [],
        env: { NODE_ENV: 'test', WARM_UP_REQUESTS: '0' },
      }),
    )
  }
  const [one, two] = apis as [(typeof apis)[0], (typeof apis)[0]]
  const login = (base: string, from: string, password: string) =>
    send(base, from, 'POST', '/auth/login', JSON.stringify({ email: BENCH_ADMIN.email, password }))

  process.stderr.write('100 wrong passwords at once from 127.0.0.2 …\n')
  const guesses = await Promise.all(
    Array.from({ length: 100 }, (_, i) => login(i % 2 ? one.base : two.base, '127.0.0.2', `guess-${i}`)),
  )
  const owner = await login(two.base, '127.0.0.3', BENCH_ADMIN.password)
  const guesser = await login(one.base, '127.0.0.2', BENCH_ADMIN.password)

  process.stderr.write(`${values.logins} logins with the right password, one at a time …\n`)
  const pid = one.child.process.pid!
  const logins: Array<{ ms: number; cpuMs: number }> = []

  for (let i = 0; i < Number(values.logins); i++) {
    const cpuBefore = cpuSeconds(pid)
    const answer = await login(one.base, '127.0.0.4', BENCH_ADMIN.password)
    logins.push({ ms: answer.ms, cpuMs: (cpuSeconds(pid) - cpuBefore) * 1000 })
    if (answer.status !== 200) throw new Error(`login ${i + 1} answered ${answer.status}`)
  }

  // The baseline, side by side: the smallest refused request (an anonymous GET, 401). Rounds
  // alternate the two so a slow minute weighs on both; the ratio is the median per round.
  process.stderr.write(`${values.hostile} anonymous 60 KB bodies, beside as many anonymous GETs …\n`)
  const hostile = JSON.stringify({ items: Array.from({ length: 20_000 }, () => ({})) })
  const answers: Answer[] = []
  const plain: Answer[] = []
  const cpuRatios: number[] = []
  const cpuPerHostileMs: number[] = []
  // CPU time moves in 10 ms ticks: rounds long enough that a tick is a small part of them.
  const perRound = 100
  for (let round = 0; round < Math.ceil(Number(values.hostile) / perRound); round++) {
    let cpu = cpuSeconds(pid)
    for (let i = 0; i < perRound; i++) answers.push(await send(one.base, '127.0.0.4', 'POST', '/shipment-requests', hostile))
    const hostileCpu = cpuSeconds(pid) - cpu
    cpu = cpuSeconds(pid)
    for (let i = 0; i < perRound; i++) plain.push(await send(one.base, '127.0.0.4', 'GET', '/shipments'))
    const plainCpu = cpuSeconds(pid) - cpu
    cpuPerHostileMs.push((hostileCpu * 1000) / perRound)
    if (plainCpu > 0) cpuRatios.push(hostileCpu / plainCpu)
  }
  const p50 = (xs: Answer[]) =>
    percentile(
      xs.map((a) => a.ms),
      50,
    )

  const ms = (x: number) => `${x.toFixed(1)} ms`
  console.log(`
Attacks on two API processes (production defaults), ${new Date().toISOString()}

100 wrong passwords at once, one address, 50 per instance: ${count(guesses)}
  the owner from another address, right password:        ${owner.status}
  the right password from the guessing address:          ${guesser.status}
one login at scrypt N=2^17 (median of ${logins.length}):          ${ms(median(logins.map((l) => l.ms)))} wall, ${ms(median(logins.map((l) => l.cpuMs)))} CPU
anonymous ${hostile.length}-byte body of 20,000 empty items ×${answers.length}: ${count(answers)}
  answer body: at most ${Math.max(...answers.map((a) => a.bytes))} bytes
  latency: p50 ${ms(p50(answers))}, p99 ${ms(
    percentile(
      answers.map((a) => a.ms),
      99,
    ),
  )}
  CPU per request: ${ms(median(cpuPerHostileMs))} (median of ${cpuPerHostileMs.length} rounds of ${perRound})
  beside an anonymous GET /shipments (${count(plain)}): latency p50 ${(p50(answers) / p50(plain)).toFixed(2)}x, CPU ${cpuRatios.length ? median(cpuRatios).toFixed(2) : 'n/a'}x
`)
} finally {
  for (const api of apis) api.child.process.kill('SIGKILL')
  await dropSchema(TEST_DATABASE_URL, schema)
  await deleteKeys(TEST_REDIS_URL, `${prefix}*`)
}
