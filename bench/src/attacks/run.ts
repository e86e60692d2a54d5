/**
 * bench/attacks: what the attacks of docs/security.md cost and get, measured on real API
 * processes with production's defaults (scrypt N=2^17, the login and write limits), clients on
 * their own loopback addresses (127.0.0.2 guesses, 127.0.0.3 is the owner, 127.0.0.4 measures).
 * Beside them, one process without the new bounds (64 hashes at once, write limits raised)
 * as the baseline of the same run.
 *
 *   npm run bench:attacks [-- --hostile 1000 --logins 5 --rush 50 --flood-seconds 60 --only rush,flood,batch]
 */
import { parseArgs } from 'node:util'
import { deleteKeys, dropSchema, ensureTestDatabase, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueName } from '@tms/testing'
import { Redis } from 'ioredis'
import { BENCH_ADMIN, startBenchApi } from '../api-process.js'
import { cpuSeconds, median, percentile } from '../machine.js'
import { bigBatchPaging } from './big-batch.js'
import { type Answer, countStatuses, ms, send, sessionCookie } from './http.js'
import { idempotencyFlood } from './idempotency-flood.js'
import { loginRush } from './login-rush.js'

const { values } = parseArgs({
  options: {
    hostile: { type: 'string', default: '1000' },
    logins: { type: 'string', default: '5' },
    rush: { type: 'string', default: '50' },
    'flood-seconds': { type: 'string', default: '60' },
    only: { type: 'string', default: 'limits,hostile,rush,flood,batch' },
  },
})
const parts = new Set(values.only!.split(','))
const say = (line: string) => process.stderr.write(`${line}\n`)
const lines: string[] = []
const report = (text: string) => lines.push(text)

await ensureTestDatabase()
const schema = uniqueName('bench_attacks')
const prefix = `bench:${uniqueName('attacks')}:`
const url = new URL(TEST_DATABASE_URL)
url.searchParams.set('schema', schema)
const apis: Array<Awaited<ReturnType<typeof startBenchApi>>> = []
const redis = new Redis(TEST_REDIS_URL)
try {
  say('starting three API processes: two with production defaults, one without the new bounds …')
  const bounds = {
    'api-1': {},
    'api-2': {},
    // Without the bound on hashes, and with the write limit raised: the byte bound alone.
    'api-unbounded': { PASSWORD_HASH_CONCURRENCY: '64', RATE_LIMIT_DEVICE_REGISTRATIONS_PER_MINUTE: '100000' },
  }
  for (const [name, env] of Object.entries(bounds)) {
    apis.push(
      await startBenchApi({
        name,
        redisPrefix: prefix,
        databaseUrl: url.toString(),
        wrapper: [],
        env: { NODE_ENV: 'test', WARM_UP_REQUESTS: '0', ...env },
      }),
    )
  }
  const [one, two, unbounded] = apis as [(typeof apis)[0], (typeof apis)[0], (typeof apis)[0]]
  const login = (base: string, from: string, password: string) =>
    send(base, from, 'POST', '/auth/login', { body: JSON.stringify({ email: BENCH_ADMIN.email, password }) })
  const admin = sessionCookie(await login(one.base, '127.0.0.5', BENCH_ADMIN.password))
  const people = Array.from({ length: Number(values.rush) }, (_, i) => ({
    email: `person-${i}@bench.local`,
    password: `a long password of person ${i}`,
  }))
  const makeUser = async (user: { email: string; password: string }, roles: string[]) => {
    const created = await send(one.base, '127.0.0.5', 'POST', '/users', {
      body: JSON.stringify({ ...user, roles }),
      cookie: admin,
    })
    if (created.status !== 201) throw new Error(`user ${user.email}: ${created.status} ${created.body.slice(0, 200)}`)
    return (JSON.parse(created.body) as { id: string }).id
  }
  report(`Attacks on API processes (production defaults), ${new Date().toISOString()}\n`)

  if (parts.has('limits')) {
    say('100 wrong passwords at once from 127.0.0.2 …')
    const guesses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => login(i % 2 ? one.base : two.base, '127.0.0.2', `guess-${i}`)),
    )
    const owner = await login(two.base, '127.0.0.3', BENCH_ADMIN.password)
    const guesser = await login(one.base, '127.0.0.2', BENCH_ADMIN.password)
    say(`${values.logins} logins with the right password, one at a time …`)
    const pid = one.child.process.pid!
    const logins: Array<{ ms: number; cpuMs: number }> = []
    for (let i = 0; i < Number(values.logins); i++) {
      const cpuBefore = cpuSeconds(pid)
      const answer = await login(one.base, '127.0.0.4', BENCH_ADMIN.password)
      logins.push({ ms: answer.ms, cpuMs: (cpuSeconds(pid) - cpuBefore) * 1000 })
      if (answer.status !== 200) throw new Error(`login ${i + 1} answered ${answer.status}`)
    }
    report(`100 wrong passwords at once, one address, 50 per instance: ${countStatuses(guesses)}
  the owner from another address, right password:        ${owner.status}
  the right password from the guessing address:          ${guesser.status}
one login at scrypt N=2^17 (median of ${logins.length}):          ${ms(median(logins.map((l) => l.ms)))} wall, ${ms(median(logins.map((l) => l.cpuMs)))} CPU`)
  }

  if (parts.has('hostile')) {
    // The baseline, side by side: the smallest refused request (an anonymous GET, 401). Rounds
    // alternate the two so a slow minute weighs on both; the ratio is the median per round.
    say(`${values.hostile} anonymous 60 KB bodies, beside as many anonymous GETs …`)
    const pid = one.child.process.pid!
    const hostile = JSON.stringify({ items: Array.from({ length: 20_000 }, () => ({})) })
    const answers: Answer[] = []
    const plain: Answer[] = []
    const cpuRatios: number[] = []
    const cpuPerHostileMs: number[] = []
    // CPU time moves in 10 ms ticks: rounds long enough that a tick is a small part of them.
    const perRound = 100
    for (let round = 0; round < Math.ceil(Number(values.hostile) / perRound); round++) {
      let cpu = cpuSeconds(pid)
      for (let i = 0; i < perRound; i++)
        answers.push(await send(one.base, '127.0.0.4', 'POST', '/shipment-requests', { body: hostile }))
      const hostileCpu = cpuSeconds(pid) - cpu
      cpu = cpuSeconds(pid)
      for (let i = 0; i < perRound; i++) plain.push(await send(one.base, '127.0.0.4', 'GET', '/shipments'))
      const plainCpu = cpuSeconds(pid) - cpu
      cpuPerHostileMs.push((hostileCpu * 1000) / perRound)
      if (plainCpu > 0) cpuRatios.push(hostileCpu / plainCpu)
    }
    const p = (xs: Answer[], q: number) =>
      percentile(
        xs.map((a) => a.ms),
        q,
      )
    report(`anonymous ${hostile.length}-byte body of 20,000 empty items ×${answers.length}: ${countStatuses(answers)}
  answer body: at most ${answers.reduce((most, a) => Math.max(most, a.bytes), 0)} bytes
  latency: p50 ${ms(p(answers, 50))}, p99 ${ms(p(answers, 99))}
  CPU per request: ${ms(median(cpuPerHostileMs))} (median of ${cpuPerHostileMs.length} rounds of ${perRound})
  beside an anonymous GET /shipments (${countStatuses(plain)}): latency p50 ${(p(answers, 50) / p(plain, 50)).toFixed(2)}x, CPU ${cpuRatios.length ? median(cpuRatios).toFixed(2) : 'n/a'}x`)
  }

  if (parts.has('rush') || parts.has('flood')) {
    say(`${people.length} people for the login rush and the flood's logins (each user a hash at N=2^17) …`)
    for (let i = 0; i < people.length; i += 2) await Promise.all(people.slice(i, i + 2).map((p) => makeUser(p, ['agent'])))
  }

  if (parts.has('rush')) {
    for (const [label, api] of [
      ['PASSWORD_HASH_CONCURRENCY=2 (the default)', one],
      ['64 at once (without the bound)', unbounded],
    ] as const) {
      say(`${people.length} logins at once, ${label} …`)
      const rush = await loginRush(api.base, api.child.process.pid!, people)
      report(`${people.length} logins at once on one instance, ${label}:
  first answers: ${countStatuses(rush.first)}; every one in (a 503 retried after its retry-after) in ${ms(rush.allInMs)}
  resident memory: ${rush.idleRssMiB.toFixed(0)} MiB idle, ${rush.peakRssMiB.toFixed(0)} MiB at its peak (sampled every 5 ms)`)
    }
  }

  if (parts.has('flood')) {
    const seconds = Number(values['flood-seconds'])
    for (const [label, api, name] of [
      ['production limits (60 registrations a minute, 2 MiB of answers)', one, 'flood-partner'],
      ['its write limit raised (as the rehearsal does): the byte bound alone', unbounded, 'flood-partner-2'],
    ] as const) {
      const partner = { email: `${name}@bench.local`, password: 'a long partner password' }
      const id = await makeUser(partner, ['partner'])
      const cookie = sessionCookie(await send(api.base, '127.0.3.9', 'POST', '/auth/login', { body: JSON.stringify(partner) }))
      say(`a partner writing with fresh Idempotency-Keys for ${seconds} s, ${label} …`)
      const flood = await idempotencyFlood({
        base: api.base,
        redis,
        redisPrefix: prefix,
        partner: { id, cookie },
        people,
        seconds,
        concurrency: 4,
      })
      const done = flood.writes.filter((w) => w.status === 200).length
      const loginMs = flood.logins.map((l) => l.ms)
      report(`a partner writing 1,000 unknown devices with a fresh Idempotency-Key, 4 at once for ${seconds} s, ${label}:
  writes: ${countStatuses(flood.writes)}; each answer ${flood.answerBytes} bytes
  kept for the partner: ${flood.kept.keys} answers, ${flood.kept.bytes} bytes (kept whole and unbounded, as before: ${done} × ${flood.answerBytes} bytes = ${((done * flood.answerBytes) / 2 ** 20).toFixed(1)} MiB for 24 h)
  Redis used_memory: ${(flood.redisBefore / 2 ** 20).toFixed(1)} MiB before, ${(flood.redisAfter / 2 ** 20).toFixed(1)} MiB after
  other people's logins meanwhile, one a second: ${countStatuses(flood.logins)}; p50 ${ms(percentile(loginMs, 50))}, max ${ms(Math.max(0, ...loginMs))}`)
    }
  }

  if (parts.has('batch')) {
    say('a batch of 20,000 devices and one of 20, each page listed …')
    const partner = { email: 'batch-partner@bench.local', password: 'a long partner password' }
    await makeUser(partner, ['partner'])
    const partnerCookie = sessionCookie(
      await send(one.base, '127.0.5.1', 'POST', '/auth/login', { body: JSON.stringify(partner) }),
    )
    const paging = await bigBatchPaging(one.base, partnerCookie, admin)
    report(`a refurbishment batch of ${paging.big.devices} devices, every page of 50 by its cursor (${paging.big.pages} pages):
  p50 ${ms(paging.big.p50)}, p99 ${ms(paging.big.p99)}; a search by part of an id ${ms(paging.big.searchMs)}
  beside the one page of a batch of ${paging.small.devices}, asked as often (${paging.small.requests}): p50 ${ms(paging.small.p50)}, p99 ${ms(paging.small.p99)}
  a page of the big batch / a page of the small one, p50: ${(paging.big.p50 / paging.small.p50).toFixed(2)}x`)
  }
  console.log(`${lines.join('\n')}\n`)
} finally {
  for (const api of apis) api.child.process.kill('SIGKILL')
  redis.disconnect()
  await dropSchema(TEST_DATABASE_URL, schema)
  await deleteKeys(TEST_REDIS_URL, `${prefix}*`)
}
