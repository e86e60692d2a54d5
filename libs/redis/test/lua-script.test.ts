import { randomUUID } from 'node:crypto'
import { isolatedRedisPrefix, TEST_REDIS_URL } from '@tms/testing'
import t from 'tap'
import { connectRedis, createRedis } from '../src/create-redis.js'
import { LuaScript } from '../src/lua-script.js'

t.test('a Lua script runs on an auto-pipelined connection beside other commands, loading itself once', async (t) => {
  const prefix = isolatedRedisPrefix(t)
  const redis = createRedis(TEST_REDIS_URL, { connectionName: 'lua-script-test' })
  t.teardown(() => redis.disconnect())
  await connectRedis(redis)
  // A script Redis has never seen (a unique comment): the first EVALSHA is NOSCRIPT, then EVAL.
  const script = new LuaScript('incr-by', `-- ${randomUUID()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`, 1)
  const key = `${prefix}counter`
  const [before, first, second] = await Promise.all([
    redis.get(key),
    script.run<number>(redis, [key], [2]),
    script.run<number>(redis, [key], [3]),
  ])
  t.equal(before, null)
  t.same([first, second].sort(), [2, 5])
  t.equal(await script.run<number>(redis, [key], [1]), 6, 'by SHA once Redis knows it')
  await t.rejects(script.run(redis, [], [1]), /takes 1 keys, got 0/)
})
