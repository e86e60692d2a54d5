import { sqlClient } from '@tms/testing'
import { apiTokens, devices, refurbishmentBatches, shipmentRequests, shipments, users } from '@tms/warehouse'
import t from 'tap'
import { ERROR_CODES } from '../src/http/error-codes.js'
import { request } from './bad-input/case.js'
import { deviceAndBatchCases } from './bad-input/devices-and-batches.js'
import { fixAndPeopleCases } from './bad-input/fixes-and-people.js'
import { requestCases } from './bad-input/requests.js'
import { buildTestApi, loginCookie, userCookie } from './support.js'

const cases = [...requestCases, ...deviceAndBatchCases, ...fixAndPeopleCases]

t.test(`${cases.length} malformed requests: each a 4xx that says what is wrong, and nothing stored`, async (t) => {
  const api = await buildTestApi(t)
  const cookie = await loginCookie(api.app)
  const counts = async () =>
    Promise.all(
      [users, apiTokens, shipmentRequests, shipments, devices, refurbishmentBatches].map((c) => api.storage.count(c as never)),
    )
  const before = await counts()

  for (const c of cases) {
    const raw = typeof c.body === 'string'
    const response = await api.app.inject({
      method: c.method,
      url: c.url,
      headers: {
        cookie,
        ...(c.body !== undefined ? { 'content-type': c.contentType ?? 'application/json' } : {}),
      },
      ...(c.body !== undefined ? { payload: raw ? (c.body as string) : JSON.stringify(c.body) } : {}),
    })
    const body = response.json<{ statusCode: number; code: string; error: string; message: string }>()
    t.equal(response.statusCode, c.status, `${c.name}: status ${c.status} (${body.message})`)
    t.equal(body.statusCode, c.status, `${c.name}: JSON error shape`)
    t.type(body.error, 'string')
    t.notMatch(response.body, /at .*\.(js|ts):\d+/, `${c.name}: no stack trace`)
    if (c.field) t.match(body.message, c.field, `${c.name}: the message names the problem`)
    t.equal(ERROR_CODES[body.code], c.status, `${c.name}: code ${body.code}`)
  }
  t.same(await counts(), before, 'no table gained a row')
})

t.test('a large hostile body costs a bounded answer', async (t) => {
  const api = await buildTestApi(t)
  const cookie = await loginCookie(api.app)
  // 60 KB of 20,000 empty items: every one of them invalid.
  const hostile = JSON.stringify({ items: Array.from({ length: 20_000 }, () => ({})) })
  t.ok(hostile.length > 59_000 && hostile.length < 64 * 1024, 'under the body limit, so it is read')
  const send = (headers: Record<string, string>) =>
    api.app.inject({
      method: 'POST',
      url: '/shipment-requests',
      headers: { 'content-type': 'application/json', ...headers },
      payload: hostile,
    })

  const anonymous = await send({})
  t.equal(anonymous.statusCode, 401, 'anonymous: refused before the body is validated')
  t.ok(anonymous.body.length < 1024, `401 in ${anonymous.body.length} bytes`)

  const agent = await userCookie(api.app, cookie, ['agent'])
  const forbidden = await send({ cookie: agent.cookie })
  t.equal(forbidden.statusCode, 403, 'an agent may not post requests: refused before validation too')

  const operator = await send({ cookie })
  t.equal(operator.statusCode, 400, 'a caller who may use the route gets the validation error')
  t.ok(operator.body.length < 4096, `400 in ${operator.body.length} bytes`)
  t.ok(operator.json<{ details: unknown[] }>().details.length <= 10, 'at most 10 details')
})

t.test('a huge URL gets a bounded answer, not an echo', async (t) => {
  const api = await buildTestApi(t)
  const cookie = await loginCookie(api.app)
  for (const url of [`/shipments/${'a'.repeat(60_000)}`, `/shipments/${'a'.repeat(300)}/pack`, `/x${'b'.repeat(60_000)}`]) {
    const response = await api.app.inject({ method: 'GET', url, headers: { cookie } })
    t.ok(response.statusCode >= 400 && response.statusCode < 500, `${url.length}-character URL: ${response.statusCode}`)
    t.ok(response.body.length < 1024, `answered in ${response.body.length} bytes`)
    t.match(response.json(), { statusCode: response.statusCode, error: String, message: String }, 'the one error shape')
  }
})

t.test('a storage error of ours is a 500 that names nothing inside', async (t) => {
  const api = await buildTestApi(t)
  const cookie = await loginCookie(api.app)
  const created = await api.app.inject({
    method: 'POST',
    url: '/shipment-requests',
    headers: { cookie },
    payload: request({ orderId: 'o-unreadable' }),
  })
  const id = created.json<{ id: string }>().id
  // A record in a shape no version of this code reads (as if written by a far newer release).
  const sql = await sqlClient(t, api.env.DATABASE_URL!)
  await sql.query('UPDATE shipment_requests SET schema_version = -7 WHERE id = $1', [id])
  const response = await api.app.inject({ method: 'GET', url: `/shipment-requests/${id}`, headers: { cookie } })
  t.equal(response.statusCode, 500)
  t.equal(response.json().message, 'an unexpected error occurred; it has been logged')
  t.notMatch(response.body, /schema|shipment_requests|version -7/, 'no table, field or version named')
})

t.test('x-request-id: a well-formed upstream id is kept, anything else replaced', async (t) => {
  const api = await buildTestApi(t)
  const idOf = async (header?: string) =>
    (
      await api.app.inject({
        method: 'GET',
        url: '/health/live',
        headers: header === undefined ? {} : { 'x-request-id': header },
      })
    ).headers['x-request-id']
  t.equal(await idOf('lb-1f2e3d:42'), 'lb-1f2e3d:42', "the load balancer's id")
  t.match(await idOf(), /^req-[0-9a-z]+$/, 'none sent: our own')
  for (const hostile of ['a'.repeat(65), 'x" injected="1', '{"level":60}', 'with space', '']) {
    const id = await idOf(hostile)
    t.match(id, /^req-[0-9a-z]+$/, `${JSON.stringify(hostile.slice(0, 20))} replaced by ${id}`)
  }
})
