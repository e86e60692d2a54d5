import { createHash } from 'node:crypto'
import { type Keyspace, LuaScript } from '@tms/redis'
import type { Redis } from 'ioredis'

export interface LoginThrottleLimits {
  /**
   * Failures from one trusted device (a browser holding this account's device cookie) in a
   * window; then that cookie counts for nothing until the window ends (its logins are an
   * unknown device's again).
   */
  perDevice: number
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

/**
 * An attempt that counts as failed unless it is taken back (a success, or a check that could not
 * run): on the trusted device's own counter, or on the three counters of an unknown device.
 */
export interface LoginReservation {
  readonly keys: [device: string] | [pair: string, address: string, account: string]
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
 * KEYS: the trusted device's counter. ARGV: its limit, window ms. {0, 0} when reserved, or
 * {4, ms until the window ends} when this device has failed too often (then it is trusted no more).
 */
const RESERVE_DEVICE = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then ttl = tonumber(ARGV[2]) end
  return {4, ttl}
end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2], 'NX')
return {0, 0}`

/**
 * KEYS: the reservation's counters (the device's; or pair, address, account). ARGV: 1 when the
 * login succeeded (the first counter is cleared: the pair, or the device), 0 when the check
 * could not run. The reservation is taken back from every counter.
 */
const TAKE_BACK = `
if ARGV[1] == '1' then redis.call('DEL', KEYS[1]) elseif tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
for i = 2, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 1`

const RESERVE_SCRIPT = new LuaScript('tms-login-reserve', RESERVE, 4)
const RESERVE_DEVICE_SCRIPT = new LuaScript('tms-login-reserve-device', RESERVE_DEVICE, 1)
const TAKE_BACK_SCRIPTS = {
  1: new LuaScript('tms-login-take-back-device', TAKE_BACK, 1),
  3: new LuaScript('tms-login-take-back', TAKE_BACK, 3),
}
const REFUSED_BY = { 1: 'account-and-address', 2: 'address', 3: 'account' } as const

/** Emails can be long and hold anything: keys carry a digest of the normalised address. */
export const accountDigest = (email: string) =>
  createHash('sha256').update(email.trim().toLowerCase()).digest('base64url').slice(0, 22)

/**
 * Failed logins counted in Redis, so the limits hold across all instances. An attempt is
 * reserved in one atomic step before the password is checked: of 100 wrong passwords sent at
 * once, at most the limit are ever checked.
 *
 * OWASP's device cookies: a browser that logged in as this account before (it holds the
 * account's signed device cookie, DeviceCookies) is a trusted device, counted on its own, and
 * none of the other limits applies to it: an attacker elsewhere, or a colleague's machine behind
 * the same NAT address, cannot keep the owner out. An unknown device is counted per account and
 * address (guesses from one address cannot lock the owner out from another), per address over
 * all accounts, and per account over all addresses, which slows its attempts down (a doubling
 * delay) and never locks the account.
 */
export class LoginThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keyspace,
    private readonly limits: LoginThrottleLimits,
  ) {}

  /** `device`: the id of a valid device cookie of this account the login came with. */
  async reserve(email: string, address: string, device?: string): Promise<LoginAttempt> {
    const account = accountDigest(email)
    if (device !== undefined) {
      const keys: [string] = [this.keys.key('device', account, device)]
      const [refused] = await RESERVE_DEVICE_SCRIPT.run<[number, number]>(this.redis, keys, [
        this.limits.perDevice,
        this.limits.windowSeconds * 1000,
      ])
      if (refused === 0) return { allowed: true, reservation: { keys } }
      // This device failed too often: trusted no more this window, it is counted as unknown.
    }
    const keys: [string, string, string] = [
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
    await TAKE_BACK_SCRIPTS[reservation.keys.length].run(this.redis, reservation.keys, [1])
  }

  /** The check could not run (the database is down): the attempt counts for nothing. */
  async notChecked(reservation: LoginReservation): Promise<void> {
    await TAKE_BACK_SCRIPTS[reservation.keys.length].run(this.redis, reservation.keys, [0])
  }
}
