import { setTimeout as sleep } from 'node:timers/promises'
import { generousBound } from '@tms/testing'
import Fastify from 'fastify'
import t from 'tap'
import { healthPlugin } from '../src/health-plugin.js'
import { addHttpShutdownSteps } from '../src/http-shutdown.js'
import { Lifecycle } from '../src/lifecycle.js'

function quietLogger() {
  const lines: Array<{ level: string; obj: object; msg: string }> = []
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, obj, msg })
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal') } }
}

t.test('steps run once, in order, each logged; readiness turns off first', async (t) => {
  const { lines, logger } = quietLogger()
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 1000 })
  const ran: string[] = []
  lifecycle.addShutdownStep({ name: 'redis', run: async () => void ran.push('redis') })
  lifecycle.addShutdownStep({ name: 'database', run: async () => void ran.push('database') })
  lifecycle.addShutdownStep({ name: 'drain', run: async () => void ran.push('drain') }, 'first')
  t.equal(lifecycle.state, 'starting')
  t.notOk(lifecycle.ready)
  lifecycle.markReady()
  t.ok(lifecycle.ready)
  const first = lifecycle.shutdown('test')
  t.equal(lifecycle.state, 'draining')
  t.notOk(lifecycle.ready)
  t.ok(lifecycle.stopping)
  await Promise.all([first, lifecycle.shutdown('again')])
  t.same(ran, ['drain', 'redis', 'database'], 'in order, and only once')
  t.equal(lifecycle.state, 'stopped')
  t.same(
    lines.map((l) => l.msg),
    [
      'shutdown: readiness now answers 503',
      'shutdown: drain started',
      'shutdown: drain done',
      'shutdown: redis started',
      'shutdown: redis done',
      'shutdown: database started',
      'shutdown: database done',
      'shutdown: complete',
    ],
  )
})

t.test('a failing step does not stop the others, and the shutdown reports it', async (t) => {
  const { logger } = quietLogger()
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 1000 })
  const ran: string[] = []
  lifecycle.addShutdownStep({
    name: 'broken',
    run: async () => {
      throw new Error('boom')
    },
  })
  lifecycle.addShutdownStep({ name: 'database', run: async () => void ran.push('database') })
  await t.rejects(lifecycle.shutdown('test'), /shutdown steps failed: broken/)
  t.same(ran, ['database'])
})

t.test('stillOpen names the steps not finished, with what they hold', async (t) => {
  const { logger } = quietLogger()
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 1000 })
  let release!: () => void
  lifecycle.addShutdownStep({
    name: 'http server',
    run: () => new Promise<void>((r) => (release = r)),
    describePending: () => '2 requests in flight',
  })
  lifecycle.addShutdownStep({ name: 'redis', run: async () => {} })
  const done = lifecycle.shutdown('test')
  await sleep(10)
  t.same(lifecycle.stillOpen(), ['http server (2 requests in flight)', 'redis'])
  release()
  await done
  t.same(lifecycle.stillOpen(), [])
})

t.test('health: live always, ready only when ready and every check answers in time', async (t) => {
  const { logger } = quietLogger()
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 1000 })
  let redisUp = true
  const app = Fastify()
  await app.register(healthPlugin, {
    lifecycle,
    checkTimeoutMs: 100,
    checks: {
      redis: async () => {
        if (!redisUp) throw new Error('ECONNREFUSED')
      },
      database: async () => {},
    },
  })
  addHttpShutdownSteps(lifecycle, app, 50)
  const get = (url: string) => app.inject({ method: 'GET', url })
  t.equal((await get('/health/live')).statusCode, 200)
  t.same((await get('/health/ready')).json(), { status: 'starting' }, 'not ready before markReady')
  lifecycle.markReady()
  t.same((await get('/health/ready')).json(), { status: 'ready', checks: { redis: 'ok', database: 'ok' } })
  redisUp = false
  const down = await get('/health/ready')
  t.equal(down.statusCode, 503)
  t.same(down.json(), { status: 'degraded', checks: { redis: 'down', database: 'ok' } })
  redisUp = true
  t.notOk((await get('/health/live')).headers.connection === 'close')
  const stopping = lifecycle.shutdown('test')
  const draining = await get('/health/live')
  t.equal(draining.statusCode, 200, 'still serving during the drain')
  t.equal(draining.headers.connection, 'close', 'and asking clients to reconnect elsewhere')
  t.equal((await get('/health/ready')).statusCode, 503)
  await stopping
})

t.test('a check that never answers counts as down after the timeout', async (t) => {
  const { logger } = quietLogger()
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 1000 })
  const app = Fastify()
  await app.register(healthPlugin, { lifecycle, checkTimeoutMs: 50, checks: { database: () => new Promise(() => {}) } })
  lifecycle.markReady()
  const started = Date.now()
  const ready = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(ready.statusCode, 503)
  t.same(ready.json().checks, { database: 'down' }, 'down, and why only in the log')
  t.ok(Date.now() - started < generousBound(50), 'answered within the check timeout, not left hanging')
})
