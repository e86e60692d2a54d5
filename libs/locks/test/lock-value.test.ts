import t from 'tap'
import { assertHolder, formatLockValue, parseLockValue } from '../src/lock-value.js'

t.test('a lock value reads back as the holder and token it was written with', async (t) => {
  t.same(parseLockValue(formatLockValue('station-7', 42)), { holder: 'station-7', fencingToken: 42 })
  t.same(parseLockValue('user:5f3a#9007199254740991'), { holder: 'user:5f3a', fencingToken: 2 ** 53 - 1 })
})

t.test('a value not written by a lock is refused, not read as NaN or an empty holder', async (t) => {
  for (const value of ['', 'station-7', 'station-7#', '#42', 'station-7#0', 'station-7#-1', 'station-7#4.2', 'station-7#42x']) {
    t.throws(() => parseLockValue(value), /not a lock value/, JSON.stringify(value))
  }
  t.throws(
    () => parseLockValue('x'.repeat(10_000)),
    { message: `not a lock value: "${'x'.repeat(100)}"` },
    'quoting at most 100 characters',
  )
})

t.test('a holder must be non-empty and free of the separator', async (t) => {
  t.doesNotThrow(() => assertHolder('station-7'))
  t.throws(() => assertHolder(''), /invalid lock holder/)
  t.throws(() => assertHolder('a#b'), /invalid lock holder/)
})
