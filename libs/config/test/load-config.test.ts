import t from 'tap'
import { ConfigError } from '../src/config-error.js'
import { parseDuration } from '../src/duration.js'
import { DEV_DEFAULTS, httpEnv, redisEnv, sessionEnv } from '../src/env-groups.js'
import { loadConfig } from '../src/load-config.js'
import { duration, origins } from '../src/validators.js'

const spec = (ctx: { production: boolean }) => ({ ...httpEnv(ctx, { port: 3000 }), ...redisEnv(), ...sessionEnv(ctx) })

t.test('defaults make a working local config', async (t) => {
  const config = loadConfig(spec, {})
  t.equal(config.PORT, 3000)
  t.equal(config.REDIS_URL, 'redis://127.0.0.1:6379')
  t.equal(config.SESSION_TTL_SECONDS, 8 * 3600)
  t.equal(config.DRAIN_DELAY_MS, 5000)
  t.equal(config.SHUTDOWN_TIMEOUT_MS, 30_000)
  t.equal(config.KEEP_ALIVE_TIMEOUT_MS, 65_000)
  t.same(config.SESSION_SECRETS, [DEV_DEFAULTS.SESSION_SECRETS])
  t.equal(config.TRUST_PROXY, false)
})

t.test('every problem is reported at once, by variable name', async (t) => {
  const error = t.throws(() =>
    loadConfig(spec, { PORT: '99999', REDIS_URL: 'http://nope', SESSION_TTL_SECONDS: 'eight hours', TRUST_PROXY: 'maybe' }),
  ) as ConfigError
  t.type(error, ConfigError)
  t.same(
    error.problems.map((p) => p.variable),
    ['PORT', 'REDIS_URL', 'SESSION_TTL_SECONDS', 'TRUST_PROXY'],
  )
  t.match(error.message, /PORT: must be a port number/)
  t.match(error.message, /SESSION_TTL_SECONDS: must be a positive integer \(got "eight hours"\)/)
})

t.test('secrets: a comma-separated list, each long enough', async (t) => {
  t.same(loadConfig(spec, { SESSION_SECRETS: `${'a'.repeat(32)}, ${'b'.repeat(40)}` }).SESSION_SECRETS, [
    'a'.repeat(32),
    'b'.repeat(40),
  ])
  t.throws(() => loadConfig(spec, { SESSION_SECRETS: `${'a'.repeat(32)},` }), /SESSION_SECRETS/)
  t.throws(() => loadConfig(spec, { SESSION_SECRETS: 'short' }), /secret #1 is shorter than 32 characters/)
})

t.test('production requires real secrets and refuses the development defaults', async (t) => {
  const missing = t.throws(() => loadConfig(spec, { NODE_ENV: 'production' })) as ConfigError
  t.same(
    missing.problems.map((p) => `${p.variable} ${p.message}`),
    ['SESSION_SECRETS is required but not set'],
  )
  const dev = t.throws(() =>
    loadConfig(spec, {
      NODE_ENV: 'production',
      SESSION_SECRETS: `${'r'.repeat(40)},${DEV_DEFAULTS.SESSION_SECRETS}`,
      ADMIN_PASSWORD: DEV_DEFAULTS.ADMIN_PASSWORD,
    }),
  ) as ConfigError
  t.same(
    dev.problems.map((p) => p.variable),
    ['ADMIN_PASSWORD', 'SESSION_SECRETS'],
  )
  t.match(dev.message, /development default, which production refuses/)
  const ok = loadConfig(spec, { NODE_ENV: 'production', SESSION_SECRETS: 'r'.repeat(40) })
  t.equal(ok.ADMIN_PASSWORD, undefined, 'no bootstrap admin unless asked for')
  t.equal(ok.HOST, '0.0.0.0')
})

t.test('durations', async (t) => {
  t.equal(parseDuration('500ms'), 500)
  t.equal(parseDuration('1s'), 1000)
  t.equal(parseDuration('5m'), 300_000)
  t.equal(parseDuration('2h'), 7_200_000)
  t.equal(parseDuration('250'), 250)
  t.equal(parseDuration('1.5s'), 1500)
  t.equal(parseDuration('soon'), undefined)
  t.equal(parseDuration('-1s'), undefined)
  const cfg = loadConfig(() => ({ EVERY: duration({ default: 1000 }) }), { EVERY: '5m' })
  t.equal(cfg.EVERY, 300_000)
  t.throws(() => loadConfig(() => ({ EVERY: duration({ default: 1000 }) }), { EVERY: 'weekly' }), /EVERY: must be a duration/)
})

t.test('TRUST_PROXY: production takes a hop count or addresses, never true', async (t) => {
  const production = (TRUST_PROXY: string) =>
    loadConfig(spec, {
      NODE_ENV: 'production',
      SESSION_SECRETS: 's'.repeat(40),
      ADMIN_EMAIL: 'a@b.io',
      ADMIN_PASSWORD: 'a production password',
      TRUST_PROXY,
    })
  t.equal(production('1').TRUST_PROXY, 1)
  t.equal(production('10.0.0.0/8, 127.0.0.1').TRUST_PROXY, '10.0.0.0/8, 127.0.0.1')
  const refused = t.throws(() => production('true')) as ConfigError
  t.same(
    refused.problems.map((p) => p.variable),
    ['TRUST_PROXY'],
  )
  t.match(refused.message, /TRUST_PROXY: true lets any client choose its address/)
  t.equal(loadConfig(spec, { TRUST_PROXY: 'true' }).TRUST_PROXY, true, 'development may (behind a local proxy)')
})

t.test('origins: scheme, host and port, nothing else', async (t) => {
  const originsOnly = () => ({ ALLOWED_ORIGINS: origins({ default: [] }) })
  t.same(loadConfig(originsOnly, {}).ALLOWED_ORIGINS, [])
  t.same(loadConfig(originsOnly, { ALLOWED_ORIGINS: 'https://tms.example.com, http://127.0.0.1:8080/' }).ALLOWED_ORIGINS, [
    'https://tms.example.com',
    'http://127.0.0.1:8080',
  ])
  for (const bad of ['tms.example.com', 'https://tms.example.com/app', 'ftp://x.example', '*']) {
    const error = t.throws(() => loadConfig(originsOnly, { ALLOWED_ORIGINS: bad })) as ConfigError
    t.match(error.problems, [{ variable: 'ALLOWED_ORIGINS', message: /is not an origin/ }], bad)
  }
})
