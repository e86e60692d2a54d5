import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildTestApi, isolatedEnv } from './support.js'

const SCRIPT = 'console.log("station")'
const STYLE = 'body{color:red}'
const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

function builtWebApp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tms-web-'))
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><html><head><meta name="tms-app-version" content="" /><script type="module">${SCRIPT}</script><style>${STYLE}</style></head><body></body></html>`,
  )
  return dir
}

t.test('GET /: the web app, never cached, allowed to run only its own inlined script and style', async (t) => {
  const { app } = await buildTestApi(t, await isolatedEnv(t, { WEB_APP_DIR: builtWebApp() }))
  const page = await app.inject({ method: 'GET', url: '/' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html; charset=utf-8/)
  t.match(page.body, SCRIPT)
  t.equal(page.headers['cache-control'], 'no-store', 'every load gets the release that answers')
  const policy = String(page.headers['content-security-policy'])
  t.match(policy, `script-src ${sha(SCRIPT)}`)
  t.match(policy, `style-src ${sha(STYLE)}`)
  t.match(policy, "default-src 'none'")
  t.match(policy, "connect-src 'self'")
  t.match(policy, "frame-ancestors 'none'")
  t.equal(page.headers['x-content-type-options'], 'nosniff')
  t.equal(page.headers['x-app-version'], '0.1.0', 'the page names its release like every answer')
  t.match(page.body, '<meta name="tms-app-version" content="0.1.0" />', 'and knows it itself, to notice a newer one')
})

t.test('GET / without a built web app is a 404 like any unknown path; the API still starts', async (t) => {
  const { app } = await buildTestApi(t, await isolatedEnv(t, { WEB_APP_DIR: join(tmpdir(), 'no-such-web-build') }))
  const page = await app.inject({ method: 'GET', url: '/' })
  t.equal(page.statusCode, 404)
  t.equal(page.json().code, 'ROUTE_NOT_FOUND')
  t.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200)
})
