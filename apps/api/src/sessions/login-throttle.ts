import { createHash } from 'node:crypto'
import { LuaScript, type Keyspace } from '@tms/redis'
import type { Redis } from 'ioredis'

export interface LoginThrottleLimits {
  /** Failures of one account from one address: a hard stop for that pair until the window ends. */
  perAccountAndAddress: number
  /** Failures from one address over all accounts: a hard stop for that address. */
  perAddress: number
  /**
   * Failures of one account over all addresses after which every further attempt on it waits a
   * delay doubling from 1 s up to `maxDelaySeconds`: a slow-down, never a lock-out.
   */
  slowDownAfter: number
  maxDelaySeconds: number
  windowSeconds: number
}

export type LoginAttempt =
  | { allowed: true; reservation: LoginReservation }
  | { allowed: false; retryAfterSeconds: number; limit: 'account-and-address' | 'address' | 'account' }

/** An attempt that counts as failed unless it is taken back (a success, or a check that could not run). */
export interface LoginReservation {
  readonly keys: [pair: string, address: string, account: string]
}

/**
 * KEYS: pair, address, account, account's next allowed time.
 * ARGV: pair limit, address limit, slow-down after, max delay ms, window ms.
 * Returns {0, 0} when the attempt is reserved (counted as a failure in advance), or
 * {1|2|3, ms to wait} naming the limit that refused it.
 */
const RESERVE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = tonumber(ARGV[5])
local function count(key) return tonumber(redis.call('GET', key) or '0') end
local function wait(key) local ttl = redis.call('PTTL', key) if ttl < 0 then return window end return ttl end
if count(KEYS[1]) >= tonumber(ARGV[1]) then return {1, wait(KEYS[1])} end
if count(KEYS[2]) >= tonumber(ARGV[2]) then return {2, wait(KEYS[2])} end
local account = count(KEYS[3])
local slowAfter = tonumber(ARGV[3])
if account >= slowAfter then
  local nextAt = tonumber(redis.call('GET', KEYS[4]) or '0')
  if now < nextAt then return {3, nextAt - now} end
  local delay = math.min(tonumber(ARGV[4]), 1000 * 2 ^ math.min(account - slowAfter, 30))
  redis.call('SET', KEYS[4], string.format('%d', now + delay), 'PX', window)
end
for i = 1, 3 do
  redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], window, 'NX')
end
return {0, 0}`

/**
 * KEYS: pair, address, account. ARGV: 1 when the login succeeded (the pair's count is cleared),
 * 0 when the check could not run. The reservation is taken back from every counter.
 */
const TAKE_BACK = `
if ARGV[1] == '1' then redis.call('DEL', KEYS[1]) elseif tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
for i = 2, 3 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 1`

const RESERVE_SCRIPT = new LuaScript('tms-login-reserve', RESERVE, 4)
const TAKE_BACK_SCRIPT = new LuaScript('tms-login-take-back', TAKE_BACK, 3)
const REFUSED_BY = { 1: 'account-and-address', 2: 'address', 3: 'account' } as const

/** Emails can be long and hold anything: keys carry a digest of the normalised address. */
const digest = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22)

/**
 * Failed logins counted in Redis, so the limits hold across all instances. An attempt is
 * reserved in one atomic step before the password is checked: of 100 wrong passwords sent at
 * once, at most the limit are ever checked. Counting per account *and* address means guesses
 * from one address cannot lock the owner out from another; the account's own count over all
 * addresses only slows attempts down (a doubling delay), it never locks the account.
 */
export class LoginThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly limits: LoginThrottleLimits,
  ) {}

  async reserve(email: string, address: string): Promise<LoginAttempt> {
    const account = digest(email.trim().toLowerCase())
    const keys: LoginReservation['keys'] = [
      this.keys.key('pair', account, address),
      this.keys.key('address', address),
      this.keys.key('account', account),
    ]
    const { perAccountAndAddress, perAddress, slowDownAfter, maxDelaySeconds, windowSeconds } = this.limits
    const [refusedBy, waitMs] = await RESERVE_SCRIPT.run<[number, number]>(
      this.redis,
      [...keys, this.keys.key('account-next', account)],
      [perAccountAndAddress, perAddress, slowDownAfter, maxDelaySeconds * 1000, windowSeconds * 1000],
    )
    if (refusedBy === 0) return { allowed: true, reservation: { keys } }
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
      limit: REFUSED_BY[refusedBy as 1 | 2 | 3],
    }
  }

  /** The password was right: the attempt was no failure, and this pair starts over. */
  async succeeded(reservation: LoginReservation): Promise<void> {
    await TAKE_BACK_SCRIPT.run(this.redis, reservation.keys, [1])
  }

  /** The check could not run (the database is down): the attempt counts for nothing. */
  async notChecked(reservation: LoginReservation): Promise<void> {
    await TAKE_BACK_SCRIPT.run(this.redis, reservation.keys, [0])
  }
}
