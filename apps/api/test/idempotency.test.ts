import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildTestApi, isolatedEnv, loginCookie, userCookie } from './support.js'

const address = { name: 'Ada', street: 'Main 1', city: 'Linz', postalCode: '4020', country: 'AT' }

/** Pending shipments an agent can claim, and the cookies of an operator and two agents. */
async function packingStation(app: FastifyInstance, count: number) {
  const admin = await loginCookie(app)
  const operator = (await userCookie(app, admin, ['operator'])).cookie
  const agent = (await userCookie(app, admin, ['agent'])).cookie
  const otherAgent = (await userCookie(app, admin, ['agent'])).cookie
  for (let i = 0; i < count; i++) {
    const created = await app.inject({
      method: 'POST',
      url: '/shipment-requests',
      headers: { cookie: operator },
      payload: { orderId: `o-${i}`, items: [{ sku: 'TRK-DOG-4', quantity: 1 }], address },
    })
    if (created.statusCode !== 201) throw new Error(`request ${i}: ${created.body}`)
  }
  await app.inject({ method: 'POST', url: '/shipments/bulk', headers: { cookie: operator } })
  const pending = await app.inject({ method: 'GET', url: '/shipments?status=PENDING', headers: { cookie: agent } })
  const ids = (pending.json().items as Array<{ id: string }>).map((s) => s.id)
  return { operator, agent, otherAgent, ids }
}

const write = (app: FastifyInstance, cookie: string, url: string, key?: string, payload?: object) =>
  app.inject({
    method: 'POST',
    url,
    headers: { cookie, ...(key ? { 'idempotency-key': key } : {}) },
    ...(payload ? { payload } : {}),
  })

t.test('POST /shipments/:id/pack: a repeated key is answered from the store, packed once', async (t) => {
  const { app } = await buildTestApi(t)
  const { agent, ids } = await packingStation(app, 1)
  const id = ids[0]!
  await write(app, agent, `/shipments/${id}/claim`)
  const key = randomUUID()
  const first = await write(app, agent, `/shipments/${id}/pack`, key)
  t.equal(first.statusCode, 200)
  t.equal(first.headers['idempotent-replayed'], undefined, 'the first is done, not replayed')
  const retry = await write(app, agent, `/shipments/${id}/pack`, key)
  t.equal(retry.statusCode, 200, 'the retry of a pack that happened is a 200, not a 409')
  t.equal(retry.headers['idempotent-replayed'], 'true')
  t.equal(retry.body, first.body, 'the same answer')
  t.match(retry.headers['content-type'], /application\/json/)
  const again = await write(app, agent, `/shipments/${id}/pack`, randomUUID())
  t.equal(again.statusCode, 409, 'a new key is a new action: the claim went with the pack')
  t.equal(again.json().code, 'CLAIM_NEEDED')
})

t.test('a key reused with another body or path is a 422 naming the header', async (t) => {
  const { app } = await buildTestApi(t)
  const { agent, ids } = await packingStation(app, 2)
  const [one, two] = ids as [string, string]
  for (const id of ids) await write(app, agent, `/shipments/${id}/claim`)
  await write(app, agent, `/shipments/${one}/pack`)
  await write(app, agent, `/shipments/${two}/pack`)
  const key = randomUUID()
  t.equal((await write(app, agent, `/shipments/${one}/ship`, key, { trackingNumber: 'AT-0001' })).statusCode, 200)
  const otherBody = await write(app, agent, `/shipments/${one}/ship`, key, { trackingNumber: 'AT-0002' })
  t.equal(otherBody.statusCode, 422)
  t.match(otherBody.json(), { code: 'IDEMPOTENCY_KEY_REUSED', message: /Idempotency-Key was used for a different request/ })
  const otherPath = await write(app, agent, `/shipments/${two}/ship`, key, { trackingNumber: 'AT-0001' })
  t.equal(otherPath.statusCode, 422, 'another shipment with the same key')
  const shipment = await app.inject({ method: 'GET', url: `/shipments/${two}`, headers: { cookie: agent } })
  t.equal(shipment.json().status, 'PACKED', 'and nothing was done')
})

t.test('keys belong to their user: the same key from another agent is their own action', async (t) => {
  const { app } = await buildTestApi(t)
  const { agent, otherAgent, ids } = await packingStation(app, 2)
  const key = 'shared-key-0001'
  const mine = await write(app, agent, `/shipments/${ids[0]}/claim`, key)
  const theirs = await write(app, otherAgent, `/shipments/${ids[1]}/claim`, key)
  t.equal(mine.statusCode, 200)
  t.equal(theirs.statusCode, 200, 'not a 422: another user')
  t.equal(theirs.headers['idempotent-replayed'], undefined)
  t.equal(theirs.json().shipmentId, ids[1])
})

t.test('a malformed key is a 400 before anything is done', async (t) => {
  const { app } = await buildTestApi(t)
  const { agent, ids } = await packingStation(app, 1)
  for (const key of ['short', 'x'.repeat(65), 'has space in it', 'semi;colon-key']) {
    const response = await write(app, agent, `/shipments/${ids[0]}/claim`, key)
    t.equal(response.statusCode, 400, JSON.stringify(key))
    t.equal(response.json().code, 'IDEMPOTENCY_KEY_INVALID')
  }
  const pending = await app.inject({ method: 'GET', url: '/shipments?status=PENDING', headers: { cookie: agent } })
  t.equal(pending.json().items.length, 1, 'still unclaimed')
})

t.test('a caller who may not write gets 401/403 whatever key they send; the key is not taken', async (t) => {
  const { app, redis, keyspace } = await buildTestApi(t)
  const { ids } = await packingStation(app, 1)
  const response = await app.inject({
    method: 'POST',
    url: `/shipments/${ids[0]}/pack`,
    headers: { 'idempotency-key': 'anonymous-key-1' },
  })
  t.equal(response.statusCode, 401)
  t.same(await redis.keys(`${keyspace.prefix}idem:*`), [], 'nothing stored for an unknown caller')
})

t.test('fifty parallel requests with one key: one pack, the rest answered or told to retry', async (t) => {
  const { app } = await buildTestApi(t)
  const { agent, ids } = await packingStation(app, 1)
  const id = ids[0]!
  await write(app, agent, `/shipments/${id}/claim`)
  const key = randomUUID()
  const answers = await Promise.all(Array.from({ length: 50 }, () => write(app, agent, `/shipments/${id}/pack`, key)))
  const done = answers.filter((a) => a.statusCode === 200 && a.headers['idempotent-replayed'] === undefined)
  t.equal(done.length, 1, 'exactly one did the pack')
  for (const answer of answers) {
    if (answer.statusCode === 200) continue
    t.equal(answer.statusCode, 409)
    t.equal(answer.json().code, 'IDEMPOTENCY_KEY_IN_PROGRESS', 'never a refusal of a second pack: none was tried')
    t.equal(answer.headers['retry-after'], '1')
  }
  const later = await write(app, agent, `/shipments/${id}/pack`, key)
  t.equal(later.statusCode, 200, 'once answered, the key replays')
  t.equal(later.body, done[0]!.body)
})

t.test('a key expires after IDEMPOTENCY_TTL_SECONDS; then it is a new action', async (t) => {
  const { app } = await buildTestApi(t, await isolatedEnv(t, { IDEMPOTENCY_TTL_SECONDS: '1' }))
  const { agent, ids } = await packingStation(app, 1)
  const id = ids[0]!
  await write(app, agent, `/shipments/${id}/claim`)
  const key = randomUUID()
  t.equal((await write(app, agent, `/shipments/${id}/pack`, key)).statusCode, 200)
  t.equal((await write(app, agent, `/shipments/${id}/pack`, key)).headers['idempotent-replayed'], 'true', 'kept within the TTL')
  // Redis expires a key within a millisecond of its TTL; 2.5 s leaves generous slack.
  await sleep(2500)
  const afterExpiry = await write(app, agent, `/shipments/${id}/pack`, key)
  t.equal(afterExpiry.statusCode, 409, 'done again, and refused: the claim went with the pack')
  t.equal(afterExpiry.json().code, 'CLAIM_NEEDED')
})

t.test('GET ignores the header: reads are safe to repeat anyway', async (t) => {
  const { app, redis, keyspace } = await buildTestApi(t)
  const { agent } = await packingStation(app, 1)
  const response = await app.inject({
    method: 'GET',
    url: '/shipments?status=PENDING',
    headers: { cookie: agent, 'idempotency-key': 'a-read-key-1' },
  })
  t.equal(response.statusCode, 200)
  t.same(await redis.keys(`${keyspace.prefix}idem:*`), [])
})

t.test('POST /api-tokens: a new token is never stored for a replay; the key is ignored', async (t) => {
  const { app, redis, keyspace } = await buildTestApi(t)
  const admin = await loginCookie(app)
  const create = () =>
    app.inject({
      method: 'POST',
      url: '/api-tokens',
      headers: { cookie: admin, 'idempotency-key': 'token-key-0001' },
      payload: { name: 'scanner', roles: ['agent'] },
    })
  const first = await create()
  const second = await create()
  t.equal(first.statusCode, 201)
  t.equal(second.statusCode, 201)
  t.not(second.json().token, first.json().token, 'each a token of its own')
  t.same(await redis.keys(`${keyspace.prefix}idem:*`), [], 'no token secret kept in Redis')
})
