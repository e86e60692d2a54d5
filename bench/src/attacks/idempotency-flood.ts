import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { type Answer, send } from './http.js'

/** 1,000 devices of a model nobody makes: an answer of 1,000 rejections. */
const unknownDevices = (round: number) =>
  JSON.stringify({
    devices: Array.from({ length: 1000 }, (_, i) => ({
      deviceId: `FLOOD-${round}-${String(i).padStart(4, '0')}`,
      modelNumber: 'NOPE9',
      hardwareEdition: 'NO-SUCH-EDITION',
      innerboxId: `IB-FLOOD-${round}`,
      masterboxId: `MB-FLOOD-${round}`,
    })),
  })

export interface FloodResult {
  writes: Answer[]
  /** The largest answer the flood got: what one kept answer would have cost unbounded. */
  answerBytes: number
  redisBefore: number
  redisAfter: number
  /** What the partner's kept answers hold, by the store's own accounting. */
  kept: { keys: number; bytes: number }
  /** Other people's logins, one a second meanwhile. */
  logins: Answer[]
}

const usedMemory = async (redis: Redis) => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0)

/**
 * A partner sends POST /devices with a new Idempotency-Key each time, `concurrency` at once, for
 * `seconds`; meanwhile other people log in, one a second. Redis's memory is read before and
 * after, and the partner's kept answers by the store's own ledger.
 */
export async function idempotencyFlood(options: {
  base: string
  redis: Redis
  redisPrefix: string
  partner: { id: string; cookie: string }
  people: ReadonlyArray<{ email: string; password: string }>
  seconds: number
  concurrency: number
}): Promise<FloodResult> {
  const { base, redis, partner } = options
  const redisBefore = await usedMemory(redis)
  const until = performance.now() + options.seconds * 1000
  const writes: Answer[] = []
  let round = 0
  const lane = async () => {
    while (performance.now() < until) {
      const answer = await send(base, '127.0.3.1', 'POST', '/devices', {
        body: unknownDevices(round++),
        cookie: partner.cookie,
        headers: { 'idempotency-key': randomUUID() },
      })
      writes.push(answer)
      // Refused for its rate: as a client told to wait would (retry-after), and no faster.
      if (answer.status === 429) await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  const logins: Answer[] = []
  const loginEverySecond = async () => {
    for (let i = 0; performance.now() < until; i++) {
      const person = options.people[i % options.people.length]!
      logins.push(await send(base, `127.0.4.${(i % 200) + 1}`, 'POST', '/auth/login', { body: JSON.stringify(person) }))
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  }
  await Promise.all([...Array.from({ length: options.concurrency }, lane), loginEverySecond()])
  const sizes = `${options.redisPrefix}idem:${partner.id}:#bytes`
  const ledger = `${options.redisPrefix}idem:${partner.id}:#ledger`
  const kept = { keys: await redis.zcard(ledger), bytes: Number((await redis.hget(sizes, '#')) ?? 0) }
  return {
    writes,
    answerBytes: Math.max(0, ...writes.filter((w) => w.status === 200).map((w) => w.bytes)),
    redisBefore,
    redisAfter: await usedMemory(redis),
    kept,
    logins,
  }
}
