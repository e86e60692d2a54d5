/**
 * The two baselines the session benchmark compares against, each its own process:
 *  - `bare`: a Fastify route that returns the same JSON body and does nothing else;
 *  - `ceiling`: a route that does only what any Redis-backed session must do per request:
 *    verify the cookie's HMAC and read one Redis key. Nothing can be faster and still be a
 *    shared session, so this is the practical ceiling.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import Fastify from 'fastify'
import { Redis } from 'ioredis'

const kind = process.argv[2]
const body = process.env.BODY ?? '{}'
const secret = process.env.SECRET ?? ''
const app = Fastify({ logger: false })

if (kind === 'bare') {
  app.get('/auth/me', async (_request, reply) => reply.type('application/json').send(body))
} else {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  const key = process.env.KEY ?? ''
  app.get('/auth/me', async (request, reply) => {
    const cookie = /tms\.sid=([^;]+)/.exec(request.headers.cookie ?? '')?.[1] ?? ''
    const value = decodeURIComponent(cookie)
    const dot = value.lastIndexOf('.')
    const expected = createHmac('sha256', secret).update(value.slice(0, dot)).digest('base64').replace(/=+$/, '')
    const given = Buffer.from(value.slice(dot + 1))
    if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) return reply.code(401).send()
    const stored = await redis.get(key)
    return reply.type('application/json').send(stored)
  })
}

const address = await app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(`${JSON.stringify({ msg: 'listening', port: Number(new URL(address).port) })}\n`)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
