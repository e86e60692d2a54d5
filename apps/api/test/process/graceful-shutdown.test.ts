import { Agent } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { cookieFrom, http } from '../http-client.js'
import { heldRequest } from '../session-helpers.js'
import { ADMIN, isolatedEnv, startApiProcess } from '../support.js'

const DRAIN_MS = 3000

t.test('SIGTERM: readiness 503 at once, the drain still serves, in-flight work completes, exit 0', async (t) => {
  const api = await startApiProcess(t, await isolatedEnv(t, { DRAIN_DELAY_MS: String(DRAIN_MS) }))
  const port = Number(new URL(api.url).port)
  const cookie = cookieFrom(await http(api.url, 'POST', '/auth/login', { body: ADMIN }))
  t.equal((await http(api.url, 'GET', '/health/ready')).status, 200)

  // A request in flight when the signal arrives: its headers are in, its body is still coming.
  const inFlight = heldRequest(port, {
    method: 'PATCH',
    path: '/auth/me/preferences',
    cookie,
    body: { packingStation: 'PACK-09' },
  })
  await sleep(100)
  api.child.signal('SIGTERM')
  await api.child.waitForLog((l) => l.phase === 'readiness-off')

  const ready = await http(api.url, 'GET', '/health/ready')
  t.equal(ready.status, 503, 'readiness answers 503 at once')
  const during = await http(api.url, 'GET', '/auth/me', { cookie })
  t.equal(during.status, 200, 'a new request during the drain is served normally')
  t.equal(during.headers.connection, 'close', 'and asks the client to reconnect elsewhere')

  await api.child.waitForLog((l) => l.phase === 'http server' && l.msg === 'shutdown: http server started')
  const completed = await inFlight.release()
  t.equal(completed.status, 200, 'the request in flight completes after the listener closed')

  const exit = await api.child.exited
  t.same(exit, { code: 0, signal: null }, 'exit 0')
  // By when each phase was logged: at exit, stdout may deliver a line written asynchronously
  // after later ones. Exact step order is the lifecycle's unit test; here: all of them, timely.
  const phases = api.child.logs
    .filter((l) => typeof l.phase === 'string')
    .sort((x, y) => String(x.time).localeCompare(String(y.time)))
    .map((l) => `${l.phase}:${l.msg}`)
  t.match(
    phases.join('\n'),
    /readiness-off[\s\S]*drain started[\s\S]*drain done[\s\S]*http server done[\s\S]*redis done[\s\S]*database done[\s\S]*complete/,
  )
})

t.test('a keep-alive client sending requests across the shutdown sees no connection error', async (t) => {
  const drainMs = 5000
  const api = await startApiProcess(t, await isolatedEnv(t, { DRAIN_DELAY_MS: String(drainMs) }))
  const agent = new Agent({ keepAlive: true, maxSockets: 4 })
  t.teardown(() => agent.destroy())
  let signalled = false
  let stop = false
  let answered = 0
  const errors: string[] = []
  const statuses = new Map<number, number>()
  let afterSignal = 0
  let closeHeaders = 0

  // Four concurrent keep-alive loops. Like a load balancer, they stop sending to this instance
  // once it has noticed readiness go (here: a second after it did), well before the drain ends.
  const loops = Array.from({ length: 4 }, async () => {
    while (!stop) {
      try {
        const r = await http(api.url, 'GET', '/health/live', { agent })
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
        answered++
        if (signalled) afterSignal++
        if (r.headers.connection === 'close') closeHeaders++
      } catch (error) {
        errors.push((error as Error).message)
      }
    }
  })
  while (answered < 20 && errors.length === 0) await sleep(20)
  api.child.signal('SIGTERM')
  await api.child.waitForLog((l) => l.phase === 'readiness-off')
  signalled = true
  await sleep(1000)
  stop = true
  await Promise.all(loops)

  t.same(errors, [], 'no connection errors')
  t.ok(afterSignal > 0, `requests kept being served after SIGTERM (${afterSignal} of ${answered})`)
  t.same([...statuses.keys()], [200], 'every answer was a 200')
  t.ok(closeHeaders > 0, 'drain responses told the client to reconnect')
  t.same(await api.child.exited, { code: 0, signal: null })
})

t.test('a shutdown past its timeout exits 1 naming what was open', async (t) => {
  const env = await isolatedEnv(t, { DRAIN_DELAY_MS: '10000', SHUTDOWN_TIMEOUT_MS: '1500' })
  const slow = await startApiProcess(t, env, 'timeout')
  slow.child.signal('SIGTERM')
  const exit = await slow.child.exited
  t.equal(exit.code, 1, 'exit 1 past SHUTDOWN_TIMEOUT_MS')
  const line = slow.child.logs.find((l) => l.phase === 'timeout')
  t.match(line, {
    stillOpen: ['drain (0 requests in flight)', 'http server (0 requests in flight)', 'services', 'redis', 'database'],
  })
})

t.test('a second signal exits at once, without waiting for the drain or the timeout', async (t) => {
  const env = await isolatedEnv(t, { DRAIN_DELAY_MS: '600000', SHUTDOWN_TIMEOUT_MS: '600000' })
  const twice = await startApiProcess(t, env, 'twice')
  twice.child.signal('SIGTERM')
  await twice.child.waitForLog((l) => l.phase === 'readiness-off')
  twice.child.signal('SIGTERM')
  // Had it waited for the 10-minute drain or timeout instead, the test would time out here.
  const second = await twice.child.exited
  t.equal(second.code, 1)
  t.ok(
    twice.child.logs.some((l) => l.phase === 'second-signal'),
    'because of the second signal',
  )
  t.notOk(
    twice.child.logs.some((l) => l.phase === 'timeout' || l.phase === 'done'),
    'not the timeout, not a finished shutdown',
  )
})
