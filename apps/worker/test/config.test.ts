import { ConfigError, loadConfig } from '@tms/config'
import t from 'tap'
import { workerEnv } from '../src/config.js'

t.test('SHOP_API_URL refuses credentials: they go in SHOP_API_AUTHORIZATION, never in a URL errors may quote', async (t) => {
  const error = t.throws(() =>
    loadConfig(workerEnv, { SHOP_API_URL: 'https://sync:hunter2@shop.example.com/api' }),
  ) as ConfigError
  t.type(error, ConfigError)
  t.match(error.problems, [{ variable: 'SHOP_API_URL', message: /must not hold a user or password/ }])
  t.notMatch(error.message, /hunter2/, 'nor does the refusal repeat it')
  const config = loadConfig(workerEnv, { SHOP_API_URL: 'https://shop.example.com/api', SHOP_API_AUTHORIZATION: 'Bearer s3cr3t' })
  t.equal(config.SHOP_API_AUTHORIZATION, 'Bearer s3cr3t')
})
