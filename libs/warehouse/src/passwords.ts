import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/**
 * scrypt's cost as log2(N). OWASP's current guidance for scrypt is N=2^17, r=8, p=1 (128 MiB per
 * hash); tests and the local cluster's test runs may lower it, production refuses less.
 */
export const DEFAULT_SCRYPT_LOG_N = 17
export const MIN_PRODUCTION_SCRYPT_LOG_N = 17
const R = 8
const P = 1
const KEY_LENGTH = 32

/** What one scrypt hash holds in memory while it runs: 128 · N · r bytes (N=2^17: 128 MiB). */
export const scryptMemoryBytes = (logN: number = DEFAULT_SCRYPT_LOG_N) => 128 * 2 ** logN * R

export interface PasswordCost {
  /** log2 of scrypt's N. */
  logN: number
}

function derive(password: string, salt: Buffer, options: { N: number; r: number; p: number }): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; Node refuses anything over maxmem (32 MiB by default).
  const maxmem = 2 * 128 * options.N * options.r
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, { ...options, maxmem }, (error, key) => (error ? reject(error) : resolve(key)))
  })
}

/** scrypt with a per-user random salt; the parameters are stored with the hash so they can be raised later. */
export async function hashPassword(password: string, cost: PasswordCost = { logN: DEFAULT_SCRYPT_LOG_N }): Promise<string> {
  const salt = randomBytes(16)
  const N = 2 ** cost.logN
  const key = await derive(password, salt, { N, r: R, p: P })
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$')
}

export interface PasswordCheck {
  ok: boolean
  /** The hash was made with other parameters than `cost`: store a new one while the password is at hand. */
  needsRehash: boolean
}

export async function verifyPassword(
  password: string,
  stored: string,
  cost: PasswordCost = { logN: DEFAULT_SCRYPT_LOG_N },
): Promise<PasswordCheck> {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  const params = { N: Number(n), r: Number(r), p: Number(p) }
  if (scheme !== 'scrypt' || !salt || !hash || !Object.values(params).every(Number.isSafeInteger)) {
    return { ok: false, needsRehash: false }
  }
  const expected = Buffer.from(hash, 'base64url')
  const actual = await derive(password, Buffer.from(salt, 'base64url'), params)
  const ok = actual.length === expected.length && timingSafeEqual(actual, expected)
  return { ok, needsRehash: ok && (params.N !== 2 ** cost.logN || params.r !== R || params.p !== P) }
}

/** Spends the same time as a real check, so a missing account is not told apart by latency. */
const dummyHashes = new Map<number, Promise<string>>()
export async function burnPasswordCheck(password: string, cost: PasswordCost = { logN: DEFAULT_SCRYPT_LOG_N }): Promise<false> {
  if (!dummyHashes.has(cost.logN)) dummyHashes.set(cost.logN, hashPassword('not a real password', cost))
  await verifyPassword(password, await dummyHashes.get(cost.logN)!, cost)
  return false
}
