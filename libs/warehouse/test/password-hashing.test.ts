import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { PasswordHashing, PasswordHashingBusyError } from '../src/password-hashing.js'

t.test('at most `concurrency` run at once, in arrival order', async (t) => {
  const hashing = new PasswordHashing({ concurrency: 2, maxWaitMs: 10_000 })
  let running = 0
  let most = 0
  const order: number[] = []
  await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      hashing.run(async () => {
        running++
        most = Math.max(most, running)
        order.push(i)
        await sleep(10)
        running--
      }),
    ),
  )
  t.equal(most, 2)
  t.same(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  t.same(hashing.load, { running: 0, waiting: 0 }, 'every slot given back')
})

t.test('a hash that waited its longest is refused with a retry-after, and leaves its place', async (t) => {
  const hashing = new PasswordHashing({ concurrency: 1, maxWaitMs: 100 })
  const slow = hashing.run(() => sleep(600))
  const outcomes = await Promise.allSettled([hashing.run(async () => 'a'), hashing.run(async () => 'b')])
  for (const outcome of outcomes) {
    t.equal(outcome.status, 'rejected')
    const error = (outcome as PromiseRejectedResult).reason as PasswordHashingBusyError
    t.type(error, PasswordHashingBusyError)
    t.match(error, { code: 'PASSWORD_HASHING_BUSY', statusCode: 503, headers: { 'retry-after': '1' } })
  }
  t.same(hashing.load, { running: 1, waiting: 0 })
  await slow
  t.equal(await hashing.run(async () => 'next'), 'next', 'the slot is free again')
})

t.test('a hash that throws gives its slot back', async (t) => {
  const hashing = new PasswordHashing({ concurrency: 1, maxWaitMs: 1000 })
  await t.rejects(
    hashing.run(() => Promise.reject(new Error('boom'))),
    /boom/,
  )
  t.equal(await hashing.run(async () => 1), 1)
})
