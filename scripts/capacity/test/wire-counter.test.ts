import { Redis } from 'ioredis'
import pg from 'pg'
import t from 'tap'
import { postgresMessages, redisCommands, WireCounter } from '../src/wire-counter.js'

/** The bytes fed one at a time: every message split at every place it can be. */
const byteByByte = (parse: (chunk: Buffer) => void, bytes: Buffer) => {
  for (let i = 0; i < bytes.length; i++) parse(bytes.subarray(i, i + 1))
}

t.test('Redis commands are counted by name, however the stream is split', async (t) => {
  const names: string[] = []
  const resp = (...words: string[]) => `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`
  const stream = Buffer.from(resp('get', 'a') + resp('EVALSHA', 'abc', '1', 'k\r\nwith a line break') + resp('ping'))
  byteByByte(
    redisCommands((name) => names.push(name)),
    stream,
  )
  t.same(names, ['GET', 'EVALSHA', 'PING'])
  const whole: string[] = []
  redisCommands((name) => whole.push(name))(stream)
  t.same(whole, names, 'in one chunk the same')
})

t.test('PostgreSQL statements are counted per Sync or Query, parses per Parse, after the start-up', async (t) => {
  const seen: string[] = []
  const message = (type: string, body = Buffer.alloc(0)) => {
    const header = Buffer.alloc(5)
    header.write(type, 0, 'latin1')
    header.writeInt32BE(body.length + 4, 1)
    return Buffer.concat([header, body])
  }
  const startup = Buffer.alloc(8 + 10)
  startup.writeInt32BE(18, 0)
  startup.writeInt32BE(196608, 4) // protocol 3.0, then "user\0x\0\0"-ish parameters
  const stream = Buffer.concat([
    startup,
    message('p', Buffer.from('secret\0')),
    message('P', Buffer.from('\0SELECT 1\0\0\0')),
    message('B', Buffer.alloc(10)),
    message('E', Buffer.alloc(5)),
    message('S'),
    message('Q', Buffer.from('BEGIN\0')),
  ])
  byteByByte(
    postgresMessages((name) => seen.push(name)),
    stream,
  )
  t.same(seen, ['parse', 'statement', 'statement'], "the start-up's parameters and the password are no statements")
})

t.test('in front of the real Redis and PostgreSQL, what a client sends is counted and answered', async (t) => {
  const redisCounter = await WireCounter.start('redis', { host: '127.0.0.1', port: 6379 })
  const postgresCounter = await WireCounter.start('postgres', { host: '127.0.0.1', port: 5432 })
  t.teardown(() => Promise.all([redisCounter.close(), postgresCounter.close()]))
  const redis = new Redis({ port: redisCounter.port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false })
  await redis.connect()
  t.equal(await redis.ping(), 'PONG')
  await redis.pipeline().get('wire-counter-test:nothing').get('wire-counter-test:nothing').exec()
  redis.disconnect()
  t.equal(redisCounter.counts.get('GET'), 2, 'a pipeline is two commands')
  t.equal(redisCounter.counts.get('PING'), 1)

  const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${postgresCounter.port}/postgres` })
  await client.connect()
  const before = postgresCounter.total()
  const parsesBefore = postgresCounter.counts.get('parse') ?? 0
  t.same((await client.query('SELECT $1::int AS n', [7])).rows, [{ n: 7 }])
  await client.query({ name: 'counted', text: 'SELECT 1' })
  await client.query({ name: 'counted', text: 'SELECT 1' })
  await client.end()
  t.equal(postgresCounter.total() - before, 3, 'three statements')
  t.equal((postgresCounter.counts.get('parse') ?? 0) - parsesBefore, 2, 'parsed: the unnamed one, and the prepared one once')
})
