import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { type ControlledCluster, isLoopback, parseDeployRequest, startControlServer } from '../src/control.js'
import type { TimelineEvent } from '../src/local-cluster.js'

/** The control server's own HTTP, in front of a cluster that only records the deploys asked of it. */
async function control(t: Test) {
  const deploys: string[] = []
  const listeners = new Set<(event: TimelineEvent) => void>()
  const cluster: ControlledCluster = {
    url: 'http://127.0.0.1:1',
    apiInstances: [],
    workerInstances: [],
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    deploy: async (app, release) => {
      deploys.push(`${app} ${release.version}`)
      for (const listener of listeners) listener({ at: Date.now(), app: 'api', action: 'deploy-start' })
    },
  }
  const server = await startControlServer(cluster, 0)
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as AddressInfo).port
  const send = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
        let text = ''
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      })
      req.on('error', reject)
      req.end(body)
    })
  const json = { 'content-type': 'application/json' }
  return { send, json, deploys }
}

t.test('a malformed deploy body is a 400, and the server goes on serving', async (t) => {
  const { send, json, deploys } = await control(t)
  for (const body of [
    '{"app":',
    'null',
    '[]',
    '"api"',
    '{"app":"api"}',
    '{"app":"db","version":"1"}',
    '{"app":"api","version":"../x"}',
  ]) {
    const answer = await send('POST', '/deploy', body, json)
    t.equal(answer.status, 400, `${body} → 400`)
    t.match(JSON.parse(answer.body), { error: String })
  }
  const unknown = await send('POST', '/deploy', '{"app":"api","version":"1.0","force":true}', json)
  t.match(JSON.parse(unknown.body), { error: 'unknown field force' })
  t.equal((await send('GET', '/status')).status, 200, 'still serving')
  const ok = await send('POST', '/deploy', '{"app":"api","version":"0.1.0+abc","strategy":"rolling"}', json)
  t.equal(ok.status, 200)
  t.match(ok.body, /"deploy-start"[\s\S]*\{"done":true\}/)
  t.same(deploys, ['api 0.1.0+abc'], 'only the well-formed deploy ran')
})

t.test('browsers, other content types and big bodies are refused', async (t) => {
  const { send, json, deploys } = await control(t)
  const body = '{"app":"api","version":"1"}'
  t.equal((await send('POST', '/deploy', body, { ...json, origin: 'https://evil.example' })).status, 403, 'a page anywhere')
  t.equal((await send('POST', '/deploy', body, { ...json, 'sec-fetch-site': 'cross-site' })).status, 403)
  t.equal((await send('POST', '/deploy', body, { 'content-type': 'text/plain' })).status, 415, 'a "simple" request')
  t.equal((await send('POST', '/deploy', 'x'.repeat(10_000), json)).status, 413)
  t.equal((await send('GET', '/deploy')).status, 404)
  t.same(deploys, [], 'nothing deployed')
})

t.test('loopback callers only', async (t) => {
  for (const address of ['127.0.0.1', '127.0.0.3', '::1', '::ffff:127.0.0.1']) t.ok(isLoopback(address), address)
  for (const address of ['10.0.0.1', '::ffff:10.0.0.1', '0.0.0.0', '', undefined, '127.0.0.1.evil']) {
    t.notOk(isLoopback(address), String(address))
  }
})

t.test('parseDeployRequest keeps what a deploy needs and nothing else', async (t) => {
  t.same(parseDeployRequest('{"app":"all","version":"2","stopOrder":"signal-first"}'), {
    ok: true,
    deploy: { app: 'all', version: '2', stopOrder: 'signal-first' },
  })
  t.match(parseDeployRequest('{"app":"all","version":"2","strategy":"blue-green"}'), { ok: false, problem: /strategy/ })
})
