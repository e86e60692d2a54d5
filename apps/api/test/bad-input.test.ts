import { sqlClient } from '@tms/testing'
import { apiTokens, devices, refurbishmentBatches, shipmentRequests, shipments, users } from '@tms/warehouse'
import t from 'tap'
import { ERROR_CODES } from '../src/http/error-codes.js'
import { buildTestApi, loginCookie, userCookie } from './support.js'

const ID = '11111111-1111-4111-8111-111111111111'
const address = { name: 'Ada', street: 'Main 1', city: 'Linz', postalCode: '4020', country: 'AT' }
const request = (overrides: Record<string, unknown>) => ({
  orderId: 'o-1',
  items: [{ sku: 'TRK-1', quantity: 1 }],
  address,
  ...overrides,
})

interface Case {
  name: string
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  url: string
  /** Sent as is: a string is a raw body, anything else JSON. */
  body?: unknown
  contentType?: string
  status: number
  /** The field the message must name, for validation errors. */
  field?: RegExp
}

const bigBody = JSON.stringify(request({ address: { ...address, name: 'x'.repeat(70_000) } }))

const cases: Case[] = [
  {
    name: 'truncated JSON',
    method: 'POST',
    url: '/shipment-requests',
    body: '{"orderId": "o-1", "items": [',
    status: 400,
    field: /JSON/i,
  },
  { name: 'not JSON at all', method: 'POST', url: '/auth/login', body: 'email=a&password=b', status: 400, field: /JSON/i },
  {
    name: 'wrong content type',
    method: 'POST',
    url: '/shipment-requests',
    body: 'orderId=o-1',
    contentType: 'text/plain',
    status: 415,
  },
  { name: 'empty JSON body', method: 'POST', url: '/shipment-requests', body: '', status: 400 },
  { name: 'JSON null body', method: 'POST', url: '/shipment-requests', body: 'null', status: 400 },
  { name: 'array instead of object', method: 'POST', url: '/shipment-requests', body: '[]', status: 400, field: /body/ },
  {
    name: 'missing field',
    method: 'POST',
    url: '/auth/login',
    body: { email: 'a@b.io' },
    status: 400,
    field: /body\.password is required/,
  },
  {
    name: 'wrong type',
    method: 'POST',
    url: '/auth/login',
    body: { email: 42, password: 'x' },
    status: 400,
    field: /body\.email/,
  },
  {
    name: 'unknown field',
    method: 'POST',
    url: '/auth/login',
    body: { email: 'a@b.io', password: 'x', admin: true },
    status: 400,
    field: /body\.admin is not an allowed field/,
  },
  {
    name: 'invalid email',
    method: 'POST',
    url: '/users',
    body: { email: 'not-an-email', password: 'long enough password', roles: ['agent'] },
    status: 400,
    field: /body\.email/,
  },
  {
    name: 'injection in email',
    method: 'POST',
    url: '/users',
    body: { email: "x' OR '1'='1", password: 'long enough password', roles: ['agent'] },
    status: 400,
    field: /body\.email/,
  },
  {
    name: 'short password',
    method: 'POST',
    url: '/users',
    body: { email: 'new@b.io', password: 'short', roles: ['agent'] },
    status: 400,
    field: /body\.password/,
  },
  {
    name: 'unknown role',
    method: 'POST',
    url: '/users',
    body: { email: 'new@b.io', password: 'long enough password', roles: ['root'] },
    status: 400,
    field: /body\.roles\.0 must be one of agent, operator, admin/,
  },
  {
    name: 'no roles',
    method: 'POST',
    url: '/users',
    body: { email: 'new@b.io', password: 'long enough password', roles: [] },
    status: 400,
    field: /body\.roles/,
  },
  {
    name: 'missing order id',
    method: 'POST',
    url: '/shipment-requests',
    body: { items: [{ sku: 'A', quantity: 1 }], address },
    status: 400,
    field: /body\.orderId is required/,
  },
  {
    name: 'SQL injection in order id',
    method: 'POST',
    url: '/shipment-requests',
    body: request({ orderId: "1'; DROP TABLE shipments;--" }),
    status: 400,
    field: /body\.orderId/,
  },
  {
    name: 'no items',
    method: 'POST',
    url: '/shipment-requests',
    body: request({ items: [] }),
    status: 400,
    field: /body\.items/,
  },
  {
    name: 'quantity as a string',
    method: 'POST',
    url: '/shipment-requests',
    body: request({ items: [{ sku: 'A', quantity: '5' }] }),
    status: 400,
    field: /body\.items\.0\.quantity must be integer/,
  },
  {
    name: 'negative quantity',
    method: 'POST',
    url: '/shipment-requests',
    body: request({ items: [{ sku: 'A', quantity: -1 }] }),
    status: 400,
    field: /body\.items\.0\.quantity/,
  },
  {
    name: 'fractional quantity',
    method: 'POST',
    url: '/shipment-requests',
    body: request({ items: [{ sku: 'A', quantity: 1.5 }] }),
    status: 400,
    field: /body\.items\.0\.quantity/,
  },
  {
    name: 'script in sku',
    method: 'POST',
    url: '/shipment-requests',
    body: request({ items: [{ sku: '<script>alert(1)</script>', quantity: 1 }] }),
    status: 400,
    field: /body\.items\.0\.sku/,
  },
  {
    name: 'missing city',
    method: 'POST',
    url: '/shipment-requests',
    body: request({ address: { ...address, city: undefined } }),
    status: 400,
    field: /body\.address\.city is required/,
  },
  {
    name: 'unknown address field',
    method: 'POST',
    url: '/shipment-requests',
    body: request({ address: { ...address, planet: 'Mars' } }),
    status: 400,
    field: /body\.address\.planet is not an allowed field/,
  },
  {
    name: 'prototype pollution',
    method: 'POST',
    url: '/shipment-requests',
    body: `{"orderId":"o-1","__proto__":{"admin":true},"items":[{"sku":"A","quantity":1}],"address":${JSON.stringify(address)}}`,
    status: 400,
  },
  { name: 'oversized body', method: 'POST', url: '/shipment-requests', body: bigBody, status: 413 },
  {
    name: 'bad id in path',
    method: 'GET',
    url: '/shipments/not-a-uuid',
    status: 400,
    field: /params\.id must match format "uuid"/,
  },
  { name: 'injection in path id', method: 'POST', url: '/shipments/1%27%20OR%201=1/pack', status: 400, field: /params\.id/ },
  {
    name: 'unknown status filter',
    method: 'GET',
    url: '/shipments?status=LOST',
    status: 400,
    field: /querystring\.status must be one of PENDING, PACKED, SHIPPED/,
  },
  { name: 'limit out of range', method: 'GET', url: '/shipments?limit=100000', status: 400, field: /querystring\.limit/ },
  {
    name: 'unknown query parameter',
    method: 'GET',
    url: '/shipment-requests?sort=desc',
    status: 400,
    field: /querystring\.sort is not an allowed field/,
  },
  {
    name: 'missing tracking number',
    method: 'POST',
    url: `/shipments/${ID}/ship`,
    body: {},
    status: 400,
    field: /body\.trackingNumber is required/,
  },
  {
    name: 'bad tracking number',
    method: 'POST',
    url: `/shipments/${ID}/ship`,
    body: { trackingNumber: 'x\r\nSet-Cookie: a=b' },
    status: 400,
    field: /body\.trackingNumber/,
  },
  {
    name: 'newline in token name',
    method: 'POST',
    url: '/api-tokens',
    body: { name: 'ci\nbot', roles: ['operator'] },
    status: 400,
    field: /body\.name/,
  },
  { name: 'bad token id', method: 'DELETE', url: '/api-tokens/123', status: 400, field: /params\.id/ },
  { name: 'empty preferences', method: 'PATCH', url: '/auth/me/preferences', body: {}, status: 400, field: /body/ },
  { name: 'unknown route', method: 'GET', url: '/shipments/x/y/z', status: 404 },
  // Devices and refurbishment batches
  {
    name: 'no devices',
    method: 'POST',
    url: '/devices',
    body: { devices: [] },
    status: 400,
    field: /body\.devices must NOT have fewer than 1 items/,
  },
  {
    name: 'devices not a list',
    method: 'POST',
    url: '/devices',
    body: {
      devices: {
        deviceId: 'DEV-0001',
        modelNumber: 'TG5',
        hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE',
        innerboxId: 'IB-0001',
        masterboxId: 'MB-0001',
      },
    },
    status: 400,
    field: /body\.devices must be array/,
  },
  {
    name: 'device id too short',
    method: 'POST',
    url: '/devices',
    body: {
      devices: [
        {
          ...{
            deviceId: 'DEV-0001',
            modelNumber: 'TG5',
            hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE',
            innerboxId: 'IB-0001',
            masterboxId: 'MB-0001',
          },
          deviceId: 'D1',
        },
      ],
    },
    status: 400,
    field: /body\.devices\.0\.deviceId/,
  },
  {
    name: 'device id with a slash',
    method: 'POST',
    url: '/devices',
    body: {
      devices: [
        {
          ...{
            deviceId: 'DEV-0001',
            modelNumber: 'TG5',
            hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE',
            innerboxId: 'IB-0001',
            masterboxId: 'MB-0001',
          },
          deviceId: 'DEV/0001',
        },
      ],
    },
    status: 400,
    field: /body\.devices\.0\.deviceId must match pattern/,
  },
  {
    name: 'device without a masterbox',
    method: 'POST',
    url: '/devices',
    body: {
      devices: [
        {
          ...{
            deviceId: 'DEV-0001',
            modelNumber: 'TG5',
            hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE',
            innerboxId: 'IB-0001',
            masterboxId: 'MB-0001',
          },
          masterboxId: undefined,
        },
      ],
    },
    status: 400,
    field: /body\.devices\.0\.masterboxId is required/,
  },
  {
    name: 'device with an extra field',
    method: 'POST',
    url: '/devices',
    body: {
      devices: [
        {
          ...{
            deviceId: 'DEV-0001',
            modelNumber: 'TG5',
            hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE',
            innerboxId: 'IB-0001',
            masterboxId: 'MB-0001',
          },
          status: 'SHIPPED',
        },
      ],
    },
    status: 400,
    field: /body\.devices\.0\.status is not an allowed field/,
  },
  {
    name: 'lower-case model number',
    method: 'POST',
    url: '/devices',
    body: {
      devices: [
        {
          ...{
            deviceId: 'DEV-0001',
            modelNumber: 'TG5',
            hardwareEdition: 'BROWN-TEXTURE-WORLDWIDE',
            innerboxId: 'IB-0001',
            masterboxId: 'MB-0001',
          },
          modelNumber: 'tg5',
        },
      ],
    },
    status: 400,
    field: /body\.devices\.0\.modelNumber/,
  },
  {
    name: 'device id of 41 characters',
    method: 'GET',
    url: `/devices/${'D'.repeat(41)}`,
    status: 400,
    field: /params\.deviceId/,
  },
  {
    name: 'unknown device status filter',
    method: 'GET',
    url: '/devices?status=LOST',
    status: 400,
    field: /querystring\.status must be one of IN_STOCK, IN_BATCH, SHIPPED/,
  },
  { name: 'malformed cursor', method: 'GET', url: '/devices?cursor=%7B%7D', status: 400, field: /querystring\.cursor/ },
  {
    name: 'batch without a model',
    method: 'POST',
    url: '/refurbishment-batches',
    body: { description: 'x', hardwareEdition: 'BLACK' },
    status: 400,
    field: /body\.modelNumber is required/,
  },
  {
    name: 'batch with an empty description',
    method: 'POST',
    url: '/refurbishment-batches',
    body: { description: '', modelNumber: 'TG5', hardwareEdition: 'BLACK-WORLDWIDE' },
    status: 400,
    field: /body\.description/,
  },
  {
    name: 'batch of an unknown model',
    method: 'POST',
    url: '/refurbishment-batches',
    body: { description: 'x', modelNumber: 'TX9', hardwareEdition: 'RED' },
    status: 422,
    field: /not in the catalogue/,
  },
  {
    name: 'batch with a number chosen by the client',
    method: 'POST',
    url: '/refurbishment-batches',
    body: { description: 'x', modelNumber: 'TG5', hardwareEdition: 'BLACK-WORLDWIDE', number: 1 },
    status: 400,
    field: /body\.number is not an allowed field/,
  },
  {
    name: 'batch id not a uuid',
    method: 'GET',
    url: '/refurbishment-batches/67',
    status: 400,
    field: /params\.id must match format "uuid"/,
  },
  {
    name: 'batch that does not exist',
    method: 'POST',
    url: `/refurbishment-batches/${ID}/pack`,
    status: 404,
    field: /does not exist/,
  },
  {
    name: 'add neither ids nor a masterbox',
    method: 'POST',
    url: `/refurbishment-batches/${ID}/devices`,
    body: {},
    status: 400,
    field: /body/,
  },
  {
    name: 'add ids and a masterbox at once',
    method: 'POST',
    url: `/refurbishment-batches/${ID}/devices`,
    body: { deviceIds: ['DEV-0001'], masterboxId: 'MB-0001' },
    status: 400,
    field: /body/,
  },
  {
    name: 'add an empty id list',
    method: 'POST',
    url: `/refurbishment-batches/${ID}/devices`,
    body: { deviceIds: [] },
    status: 400,
    field: /body/,
  },
  {
    name: 'ship without a tracking number',
    method: 'POST',
    url: `/refurbishment-batches/${ID}/ship`,
    body: {},
    status: 400,
    field: /body\.trackingNumber is required/,
  },
  {
    name: 'edit a batch with no change',
    method: 'PATCH',
    url: `/refurbishment-batches/${ID}`,
    body: {},
    status: 400,
    field: /body\.description is required/,
  },
  // Shipment request fixes and people
  {
    name: 'fix without a version',
    method: 'PATCH',
    url: `/shipment-requests/${ID}`,
    body: { address },
    status: 400,
    field: /body\.version is required/,
  },
  {
    name: 'cancel without a reason',
    method: 'POST',
    url: `/shipment-requests/${ID}/cancel`,
    body: {},
    status: 400,
    field: /body\.reason is required/,
  },
  {
    name: 'unknown readiness filter',
    method: 'GET',
    url: '/shipment-requests?readiness=BROKEN',
    status: 400,
    field: /querystring\.readiness/,
  },
  {
    name: 'a user patched to no roles',
    method: 'PATCH',
    url: `/users/${ID}`,
    body: { roles: [] },
    status: 400,
    field: /body\.roles/,
  },
  {
    name: 'a user disabled with a string',
    method: 'PATCH',
    url: `/users/${ID}`,
    body: { disabled: 'yes' },
    status: 400,
    field: /body\.disabled must be boolean/,
  },
  {
    name: 'a reset to a short password',
    method: 'POST',
    url: `/users/${ID}/password`,
    body: { password: 'short' },
    status: 400,
    field: /body\.password/,
  },
  // Characters no text here may hold: PostgreSQL's jsonb refuses NUL and half a surrogate pair
  // (each used to be a 500), and nobody types a control character into a name.
  {
    name: 'NUL in a batch description',
    method: 'POST',
    url: '/refurbishment-batches',
    body: { description: 'pallet \u0000 7', modelNumber: 'TG5', hardwareEdition: 'BLACK-WORLDWIDE' },
    status: 400,
    field: /body\.description must be text: no control characters \(but tab and line breaks\) or unpaired surrogates/,
  },
  {
    name: 'a lone surrogate in a batch description',
    method: 'POST',
    url: '/refurbishment-batches',
    body: { description: 'pallet \ud800', modelNumber: 'TG5', hardwareEdition: 'BLACK-WORLDWIDE' },
    status: 400,
    field: /body\.description must be text/,
  },
  {
    name: 'a lone surrogate in an address name',
    method: 'POST',
    url: '/shipment-requests',
    body: request({ address: { ...address, name: 'Ada \ud800' } }),
    status: 400,
    field: /body\.address\.name must be one line of text: no control characters or unpaired surrogates/,
  },
  {
    name: 'a trailing low surrogate in a street',
    method: 'POST',
    url: '/shipment-requests',
    body: request({ address: { ...address, street: 'Main 1\udc00' } }),
    status: 400,
    field: /body\.address\.street must be one line of text/,
  },
  {
    name: 'NUL in a city',
    method: 'POST',
    url: '/shipment-requests',
    body: request({ address: { ...address, city: 'Li\u0000nz' } }),
    status: 400,
    field: /body\.address\.city must be one line of text/,
  },
  {
    name: 'a line break in a one-line field',
    method: 'PATCH',
    url: `/shipment-requests/${ID}`,
    body: { version: 1, address: { ...address, name: 'Ada\nLovelace' } },
    status: 400,
    field: /body\.address\.name must be one line of text/,
  },
  {
    name: 'an escape character in a cancellation reason',
    method: 'POST',
    url: `/shipment-requests/${ID}/cancel`,
    body: { reason: 'customer \u001b[31m asked' },
    status: 400,
    field: /body\.reason must be text/,
  },
  {
    name: 'a search for something that is no id',
    method: 'GET',
    url: `/refurbishment-batches/${ID}/devices?q=%00`,
    status: 400,
    field: /querystring\.q/,
  },
  {
    name: 'a session handle of the wrong shape',
    method: 'DELETE',
    url: '/auth/me/sessions/abc',
    status: 400,
    field: /params\.id/,
  },
]

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
