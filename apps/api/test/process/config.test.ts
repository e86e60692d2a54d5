import { startChildService } from '@tms/testing'
import t from 'tap'
import { isolatedEnv, MAIN, startApiProcess } from '../support.js'

t.test('a bad environment stops the process before it listens, naming every variable', async (t) => {
  const child = startChildService(t, {
    name: 'bad-config',
    script: MAIN,
    env: { REDIS_URL: 'mysql://localhost', PORT: 'eighty', SESSION_TTL_SECONDS: '0', LOG_LEVEL: 'chatty' },
  })
  const exit = await child.exited
  t.equal(exit.code, 1)
  const line = child.logs.find((l) => l.level === 'fatal')
  t.ok(line, 'one fatal JSON line')
  t.match(line?.msg, /invalid configuration \(4 problems\)/)
  for (const name of ['LOG_LEVEL', 'PORT', 'REDIS_URL', 'SESSION_TTL_SECONDS']) t.match(line?.msg, new RegExp(`${name}: `), name)
  t.notOk(child.logs.some((l) => l.msg === 'listening'))
})

t.test('production refuses to start with development secrets', async (t) => {
  const child = startChildService(t, { name: 'prod', script: MAIN, env: { NODE_ENV: 'production', SESSION_SECRETS: '' } })
  t.equal((await child.exited).code, 1)
  t.match(child.logs.find((l) => l.level === 'fatal')?.msg, /SESSION_SECRETS/)
})

t.test('a valid environment starts', async (t) => {
  const api = await startApiProcess(t, await isolatedEnv(t))
  t.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/)
})

t.test('production refuses the in-process state demonstration switch, naming it', async (t) => {
  const child = startChildService(t, {
    name: 'prod-demo',
    script: MAIN,
    env: { NODE_ENV: 'production', TMS_DEMO_IN_PROCESS_STATE: 'true' },
  })
  t.equal((await child.exited).code, 1)
  t.match(child.logs.find((l) => l.level === 'fatal')?.msg, /TMS_DEMO_IN_PROCESS_STATE: is a demonstration switch/)
  t.notOk(child.logs.some((l) => l.msg === 'listening'))
})

t.test('production refuses a password cost below OWASP guidance and TRUST_PROXY=true, naming both', async (t) => {
  const child = startChildService(t, {
    name: 'prod-weak',
    script: MAIN,
    env: { NODE_ENV: 'production', PASSWORD_SCRYPT_LOG_N: '14', TRUST_PROXY: 'true' },
  })
  t.equal((await child.exited).code, 1)
  const fatal = child.logs.find((l) => l.level === 'fatal')?.msg
  t.match(fatal, /PASSWORD_SCRYPT_LOG_N: production needs at least 17/)
  t.match(fatal, /TRUST_PROXY: true lets any client choose its address/)
})
