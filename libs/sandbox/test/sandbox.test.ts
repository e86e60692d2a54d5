import { Redis } from 'ioredis'
import t from 'tap'
import { deleteKeys, seededRandom, uniqueName } from '../src/index.js'

t.test('a seeded generator repeats its sequence; another seed gives another', async (t) => {
  const draw = (seed: number) => Array.from({ length: 5 }, seededRandom(seed))
  t.same(draw(42), draw(42))
  t.not(draw(42).join(), draw(43).join())
  t.ok(draw(7).every((x) => x >= 0 && x < 1))
})

t.test('unique names are safe as schema names; deleteKeys removes exactly its pattern', async (t) => {
  const name = uniqueName('rh')
  t.match(name, /^rh_[0-9a-z]+_[0-9a-f]{6}$/)
  t.not(uniqueName('rh'), name)
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  t.teardown(() => redis.disconnect())
  await redis.mset(`${name}:a`, '1', `${name}:b`, '2', `${name}x:keep`, '3')
  await deleteKeys(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', `${name}:*`)
  t.same(await redis.keys(`${name}*`), [`${name}x:keep`])
  await redis.del(`${name}x:keep`)
})
