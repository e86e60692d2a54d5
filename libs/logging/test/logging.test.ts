import { Writable } from 'node:stream'
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
