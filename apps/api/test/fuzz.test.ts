import { randomInt } from 'node:crypto'
import { jobRuns } from '@tms/jobs'
import { sqlClient } from '@tms/testing'
import { WAREHOUSE_COLLECTIONS } from '@tms/warehouse'
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { ERROR_CODES } from '../src/http/error-codes.js'
import { type Caller, type FuzzRequest, type Operation, operationsOf, requestFor } from './fuzz/openapi-requests.js'
import { poisonedRequestFor } from './fuzz/poisoned-requests.js'
import { buildTestApi, loginCookie, userCookie } from './support.js'

/**
 * Property-based fuzzing of the whole API from its own OpenAPI document. In `npm test`: a fixed
 * seed and a bounded count. `npm run fuzz`: FUZZ_RUNS=20000, a new seed each time (printed, so
 * a failure can be replayed with FUZZ_SEED=<seed>), and FUZZ_MAX_MS=100 to judge speed too.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500)
const SEED = process.env.FUZZ_SEED === 'random' ? randomInt(2 ** 31) : Number(process.env.FUZZ_SEED ?? 20261204)
const MAX_MS = process.env.FUZZ_MAX_MS ? Number(process.env.FUZZ_MAX_MS) : undefined
/** No answer may be larger, whatever was asked; and no error answer larger than a few KB. */
const MAX_RESPONSE_BYTES = 16 * 1024
const MAX_ERROR_BYTES = 8 * 1024
/** Of them, valid requests with one character no text may hold in one field of their body. */
const POISONED_RUNS = Math.max(100, Math.round(RUNS / 3))

/**
 * The API with an admin, an operator, an agent and tokens, its operations from its own OpenAPI
 * document, and `judge`: what every answer must be (no 5xx, bounded, one error shape, a refused
 * request changed nothing in the database).
 */
async function fuzzWorld(t: Test) {
  const api = await buildTestApi(t)
  const admin = await loginCookie(api.app)
  const operator = (await userCookie(api.app, admin, ['operator'])).cookie
  const agent = (await userCookie(api.app, admin, ['agent'])).cookie
  const token = async (roles: string[]) =>
    (
      await api.app.inject({ method: 'POST', url: '/api-tokens', headers: { cookie: admin }, payload: { name: 'fuzz', roles } })
    ).json<{ id: string; token: string }>()
  const machine = await token(['operator'])
  const revoked = await token(['admin'])
  await api.app.inject({ method: 'DELETE', url: `/api-tokens/${revoked.id}`, headers: { cookie: admin } })
  const callers: Caller[] = [
    { name: 'anonymous', headers: {} },
    { name: 'agent', headers: { cookie: agent } },
    { name: 'operator', headers: { cookie: operator } },
    { name: 'admin', headers: { cookie: admin } },
    { name: 'operator token', headers: { authorization: `Bearer ${machine.token}` } },
    { name: 'revoked token', headers: { authorization: `Bearer ${revoked.token}` } },
    { name: 'forged cookie', headers: { cookie: `${admin.slice(0, -4)}AAAA` } },
  ]

  const document = (await api.app.inject({ method: 'GET', url: '/docs/json' })).json()
  // Logging the admin out would only shrink what the rest can reach; logout has its own tests.
  const operations = operationsOf(document).filter((op) => !(op.method === 'POST' && op.path === '/auth/logout'))

  // Rows and the latest write of every table: a 4xx must leave both as they were.
  const sql = await sqlClient(t, api.env.DATABASE_URL!)
  const tables = [...WAREHOUSE_COLLECTIONS, jobRuns].map((c) => c.name)
  const snapshot = async () =>
    JSON.stringify(
      (
        await sql.query(
          `SELECT ${tables.map((n) => `(SELECT count(*) || '/' || coalesce(max(updated_at)::text, '-') FROM ${n}) AS ${n}`).join(', ')}`,
        )
      ).rows[0],
    )

  const statuses = new Map<number, number>()
  const timings: Array<{ ms: number; what: string }> = []
  /** Sends one request and throws, naming it, when its answer breaks a rule. */
  async function judge(request: FuzzRequest & { operation: Operation }, what: string) {
    const before = await snapshot()
    const started = performance.now()
    const response = await api.app.inject({
      method: request.method as 'GET',
      url: request.url,
      headers: request.headers,
      ...(request.payload !== undefined ? { payload: request.payload } : {}),
    })
    const ms = performance.now() - started
    timings.push({ ms, what })
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
    const fail = (problem: string) => {
      throw new Error(`${what} → ${response.statusCode}: ${problem}\n${response.body.slice(0, 500)}`)
    }
    if (response.statusCode >= 500) fail('a server error')
    if (response.rawPayload.length > MAX_RESPONSE_BYTES) fail(`${response.rawPayload.length} bytes`)
    if (response.statusCode >= 400) {
      if (response.rawPayload.length > MAX_ERROR_BYTES) fail(`an error of ${response.rawPayload.length} bytes`)
      let body: { statusCode?: unknown; code?: unknown; error?: unknown; message?: unknown }
      try {
        body = response.json()
      } catch {
        return fail('an error that is not JSON')
      }
      if (body.statusCode !== response.statusCode || typeof body.error !== 'string' || typeof body.message !== 'string') {
        fail('not the one error shape')
      }
      if (typeof body.code !== 'string' || ERROR_CODES[body.code] !== response.statusCode) fail(`undocumented code ${body.code}`)
      if ((await snapshot()) !== before) fail('a refused request changed the database')
    }
    const slowAllowed = request.operation.path === '/auth/login' || request.operation.path === '/users'
    if (MAX_MS !== undefined && ms > MAX_MS && !slowAllowed) fail(`answered in ${Math.round(ms)} ms`)
    return { response, fail }
  }

  function report(t: Test) {
    const sorted = timings.map((x) => x.ms).sort((a, b) => a - b)
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1)
    t.comment(
      `statuses: ${[...statuses]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ')}`,
    )
    const judged = MAX_MS === undefined ? 'unjudged; npm run fuzz judges it' : `each at most ${MAX_MS} ms, logins aside`
    t.comment(`latency (${judged}): p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`)
    for (const slow of [...timings].sort((a, b) => b.ms - a.ms).slice(0, 5)) t.comment(`  ${slow.ms.toFixed(1)} ms  ${slow.what}`)
  }

  /** Between properties: each reports its own answers. */
  const reset = () => {
    statuses.clear()
    timings.length = 0
  }
  return { api, admin, callers, operations, statuses, judge, report, reset }
}

t.test(`the API under fuzzing, seed ${SEED}`, async (t) => {
  t.setTimeout(Math.max(300_000, (RUNS + POISONED_RUNS) * 50))
  // One world for both properties: its users, tokens and schema cost seconds to make.
  const { admin, callers, operations, statuses, judge, report, reset } = await fuzzWorld(t)

  await t.test(`${RUNS} hostile requests over every operation`, async (t) => {
    t.ok(operations.length >= 20, `${operations.length} operations from the OpenAPI document`)
    await fc.assert(
      fc.asyncProperty(requestFor(operations, callers), async (request) => {
        await judge(request, `${request.caller}: ${request.method} ${request.url.slice(0, 120)}`)
      }),
      { seed: SEED, numRuns: RUNS },
    )
    report(t)
    t.ok(
      [...statuses.keys()].some((s) => s < 300),
      'some requests got through (the fuzz reaches the handlers)',
    )
    t.ok([...statuses.keys()].filter((s) => s >= 400).length >= 4, 'and many kinds were refused')
    reset()
  })

  await t.test(`${POISONED_RUNS} valid bodies with a control character or half a surrogate pair in one field`, async (t) => {
    const poisonedFields = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(poisonedRequestFor(operations, { cookie: admin }), async (request) => {
        const what = `admin: ${request.method} ${request.url.slice(0, 120)} with ${request.field ?? 'no text'} poisoned`
        const { response, fail } = await judge(request, what)
        if (request.field === null) return
        poisonedFields.set(`${request.operation.method} ${request.operation.path} ${request.field}`, 0)
        // Passwords take any character (they are hashed, never stored or shown); every other text refuses them.
        const password = /(^|\.)(password|currentPassword|newPassword)$/.test(request.field)
        // A 429 RATE_LIMITED refused it before it was read, which is a refusal too.
        const refused = response.statusCode === 400 || (response.statusCode === 429 && response.json().code === 'RATE_LIMITED')
        if (!password && !refused) fail(`${request.field} held a forbidden character and was not refused`)
      }),
      { seed: SEED, numRuns: POISONED_RUNS },
    )
    report(t)
    t.ok(poisonedFields.size >= 20, `${poisonedFields.size} different fields were poisoned`)
    t.ok(statuses.get(400), 'refused with a 400')
  })
})
