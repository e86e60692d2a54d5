import t from 'tap'
import { buildTestApi, isolatedEnv, loginCookie } from './support.js'

/** What a browser sends: its fetch metadata and Origin, beside the session cookie it attaches. */
const browser = (site: string | undefined, origin: string | undefined) => ({
  ...(site ? { 'sec-fetch-site': site } : {}),
  ...(origin ? { origin } : {}),
})

/** One API for the file: building one costs seconds on a busy machine, and these tests only read it. */
let api: Awaited<ReturnType<typeof buildTestApi>>
let admin: string
t.before(async () => {
  api = await buildTestApi(t, await isolatedEnv(t, { ALLOWED_ORIGINS: 'https://ops.example.com' }))
  admin = await loginCookie(api.app)
})

t.test('a cookie-authenticated write from another site is refused before anything runs', async (t) => {
  const post = (url: string, headers: Record<string, string>) =>
    api.app.inject({ method: 'POST', url, headers: { cookie: admin, host: 'tms.example.com', ...headers } })
  // The write a page on a sibling site makes: fetch('/shipments/bulk', { mode: 'no-cors', credentials: 'include' }).
  const attack = await post('/shipments/bulk', browser('cross-site', 'https://evil.example'))
  t.equal(attack.statusCode, 403)
  t.match(attack.json(), { code: 'CROSS_SITE_REQUEST', message: /a write from another site is refused/ })
  for (const [what, headers] of [
    ['a sibling subdomain (SameSite=Lax sends the cookie there)', browser('same-site', 'https://shop.example.com')],
    ['a page of another site, in a browser without fetch metadata', browser(undefined, 'https://evil.example')],
    ['a sandboxed frame', browser(undefined, 'null')],
    ['a logout forced from elsewhere', browser('cross-site', 'https://evil.example')],
  ] as const) {
    const url = what.startsWith('a logout') ? '/auth/logout' : '/shipments/bulk'
    t.equal((await post(url, headers)).statusCode, 403, what)
  }
  t.equal(
    (await api.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: admin } })).statusCode,
    200,
    'still logged in',
  )
  for (const [what, headers] of [
    ['our own page', browser('same-origin', 'https://tms.example.com')],
    ['our own page, in a browser without fetch metadata', browser(undefined, 'https://tms.example.com')],
    ['an origin on ALLOWED_ORIGINS', browser('cross-site', 'https://ops.example.com')],
    ['no browser at all (curl, a script)', {}],
  ] as const) {
    t.equal((await post('/shipments/bulk', headers)).statusCode, 200, what)
  }
  t.equal(
    (
      await api.app.inject({
        method: 'GET',
        url: '/shipments',
        headers: { cookie: admin, ...browser('cross-site', 'https://evil.example') },
      })
    ).statusCode,
    200,
    'reads are not writes',
  )
})

t.test('API-token calls are exempt: a page cannot send a Bearer token across sites', async (t) => {
  const { token } = (
    await api.app.inject({
      method: 'POST',
      url: '/api-tokens',
      headers: { cookie: admin },
      payload: { name: 'ops', roles: ['operator'] },
    })
  ).json<{ token: string }>()
  const answer = await api.app.inject({
    method: 'POST',
    url: '/shipments/bulk',
    headers: { authorization: `Bearer ${token}`, ...browser('cross-site', 'https://evil.example') },
  })
  t.equal(answer.statusCode, 200)
})

t.test('a login posted from another site is refused too (login CSRF)', async (t) => {
  const answer = await api.app.inject({
    method: 'POST',
    url: '/auth/login',
    headers: browser('cross-site', 'https://evil.example'),
    payload: { email: 'admin@test.local', password: 'admin password for tests' },
  })
  t.equal(answer.statusCode, 403)
  t.notOk(answer.headers['set-cookie'], 'no session for a page elsewhere')
})
