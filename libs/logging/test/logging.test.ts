import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { eventually } from '@tms/testing'
import t from 'tap'
import { createLogger } from '../src/create-logger.js'
import { lazyChildLogger } from '../src/lazy-child.js'

function capture() {
  const lines: Record<string, unknown>[] = []
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      callback()
    },
  })
  return { lines, destination }
}

t.test('every line carries app, version and instance; secrets are redacted', async (t) => {
  const { lines, destination } = capture()
  const log = createLogger({ app: 'api', version: '1.2.3', instanceId: 'host-42', destination })
  log.info(
    {
      req: { headers: { cookie: 'tms.sid=abc', authorization: 'Bearer tms_x', accept: 'json' } },
      password: 'hunter2',
      user: { email: 'a@b.io', password: 'hunter2', token: 'tms_y' },
      sessionId: 'abc',
    },
    'hello',
  )
  const [line] = lines
  t.match(line, { app: 'api', version: '1.2.3', instance: 'host-42', level: 'info', msg: 'hello' })
  t.equal((line as { req: { headers: Record<string, string> } }).req.headers.cookie, '[redacted]')
  t.equal((line as { req: { headers: Record<string, string> } }).req.headers.authorization, '[redacted]')
  t.equal((line as { req: { headers: Record<string, string> } }).req.headers.accept, 'json')
  t.equal(line!.password, '[redacted]')
  t.same(line!.user, { email: 'a@b.io', password: '[redacted]', token: '[redacted]' })
  t.equal(line!.sessionId, '[redacted]')
  t.notMatch(JSON.stringify(lines), /hunter2|tms_x|tms_y|tms\.sid=abc/)
})

t.test('a lazy child logs like a child and costs nothing until used', async (t) => {
  const { lines, destination } = capture()
  const log = createLogger({ app: 'api', version: '1', instanceId: 'i', level: 'info', destination })
  let created = 0
  const child = log.child.bind(log)
  log.child = ((...args: Parameters<typeof log.child>) => {
    created++
    return child(...args)
  }) as typeof log.child
  const lazy = lazyChildLogger(log, { reqId: 'r-1' })
  lazy.debug('below the level')
  t.equal(created, 0, 'nothing logged, nothing created')
  t.equal(lazy.isLevelEnabled('info'), true)
  lazy.warn({ password: 'x' }, 'careful')
  t.equal(created, 1)
  t.match(lines[0], { reqId: 'r-1', msg: 'careful', password: '[redacted]', app: 'api' })
})

const FIXTURE = fileURLToPath(new URL('./fixtures/log-lines.mjs', import.meta.url))

function logProcess(mode: 'exit' | 'idle') {
  const child = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, MODE: mode },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk
  })
  return { child, output: () => out }
}

t.test('stdout is written in batches, yet process.exit right after a line loses nothing', async (t) => {
  // As close-with-grace exits after a fatal line (timeout, second signal). pino writes what is
  // left synchronously at exit, possibly before a batch still in flight: every line arrives,
  // not always in order. Orderly exits go through flushLogger, which waits (app-instance test).
  const { child, output } = logProcess('exit')
  const [code] = await once(child, 'close')
  t.equal(code, 3)
  const lines = output()
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { msg: string; i?: number })
  t.equal(lines.length, 51)
  t.same(
    lines.flatMap((line) => line.i ?? []).sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i + 1),
    'every line',
  )
  t.ok(
    lines.some((line) => line.msg === 'last words'),
    'and the fatal one',
  )
})

t.test('a lone line on an idle process is written by the periodic flush, not held until exit', async (t) => {
  // The process idles until killed: a line held until exit would never show. The bound covers
  // the process's start (compiling TypeScript on a busy machine), not the flush interval.
  const { child, output } = logProcess('idle')
  t.teardown(() => child.kill('SIGKILL'))
  await eventually(() => output().includes('idle line'), { everyMs: 20, what: 'the idle line' })
  t.match(output(), /"msg":"idle line"/, 'written while the process lives on')
  t.equal(child.exitCode, null, 'and the process had not exited')
})
