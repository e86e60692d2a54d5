import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import type { LockService } from '@tms/locks'
import { DuplicateKeyError, type Storage, type Stored, VersionConflictError } from '@tms/storage'
import { type ApiToken, apiTokens, type Role, type User, users } from './collections.js'
import { notFound, WarehouseError } from './errors.js'
import { type HashingLimits, PasswordHashing } from './password-hashing.js'
import { burnPasswordCheck, DEFAULT_SCRYPT_LOG_N, hashPassword, type PasswordCost, verifyPassword } from './passwords.js'
import { updateOrConflict } from './versioned-write.js'

/** Who is calling: a person with a session, or a machine client with an API token. */
export interface Principal {
  kind: 'user' | 'token'
  id: string
  /** The user's email, or the token's name. */
  name: string
  roles: Role[]
}

export interface UserView {
  id: string
  email: string
  roles: Role[]
  disabled: boolean
}

/** Why a login failed, when the password was checked. */
export type Authentication = { user: UserView } | { refused: 'wrong-credentials' | 'disabled' }

export interface IssuedApiToken {
  id: string
  name: string
  roles: Role[]
  expiresAt: string
  /** Shown once; only its hash is stored. */
  token: string
}

/** An API token as admins list it: never its secret or the secret's hash. */
export interface ApiTokenView {
  id: string
  name: string
  roles: Role[]
  createdBy: { id: string; email: string | null }
  createdAt: string
  expiresAt: string
  revokedAt: string | null
}

/** A token lives at most a year; 90 days unless its creator says otherwise. */
export const API_TOKEN_LIFETIME_DAYS = { default: 90, max: 365 } as const
const DAY_MS = 24 * 60 * 60 * 1000

/**
 * A change that ends a user's sessions (disabling, roles, a password) is written only after
 * `beforeWrite` ended them: when Redis cannot end them, nothing is written, and no disabled user
 * is left with a live session.
 */
export interface SessionEnding {
  beforeWrite?: () => Promise<void>
}

/** The bootstrap admin has a fixed id, so instances starting at once cannot create two. */
export const FIRST_ADMIN_ID = '00000000-0000-4000-8000-000000000001'

const TOKEN_FORMAT = /^tms_([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/

/** agent < operator < admin; a partner is outside the ranks (0: it passes no ranked check). */
const ROLE_RANK: Record<Role, number> = { agent: 1, operator: 2, admin: 3, partner: 0 }

/**
 * Roles are ranked: an admin may do what an operator may, an operator what an agent may. The
 * partner role stands apart: a partner, or an admin, may do what needs it.
 */
export function hasRole(principal: Pick<Principal, 'roles'>, required: Role): boolean {
  if (required === 'partner') return principal.roles.some((role) => role === 'partner' || role === 'admin')
  return principal.roles.some((role) => ROLE_RANK[role] > 0 && ROLE_RANK[role] >= ROLE_RANK[required])
}

const sha256 = (value: string) => createHash('sha256').update(value).digest()

export interface AccountsOptions {
  /** scrypt's cost for new hashes; a login with a hash of another cost stores a new one. */
  passwordCost?: PasswordCost | undefined
  /** How many password hashes run at once on this instance, and how long one may wait. */
  hashing?: HashingLimits | undefined
  /**
   * Makes "an enabled admin is left" one step across instances: two admins demoting each other
   * at the same instant could otherwise both succeed. Without it (tools, tests of other rules)
   * the check and the write are two steps.
   */
  locks?: LockService
}

/** The lock every change that may remove an enabled admin takes, on every instance. */
const ADMIN_ROSTER_LOCK = 'admin-roster'

export class Accounts {
  readonly #cost: PasswordCost
  readonly #hashing: PasswordHashing
  readonly #locks: LockService | undefined

  constructor(
    private readonly storage: Storage,
    options: AccountsOptions = {},
  ) {
    this.#cost = options.passwordCost ?? { logN: DEFAULT_SCRYPT_LOG_N }
    this.#hashing = new PasswordHashing(options.hashing ?? { concurrency: 2, maxWaitMs: 5000 })
    this.#locks = options.locks
  }

  /** scrypt, one of at most `hashing.concurrency` at once. */
  #hash(password: string) {
    return this.#hashing.run(() => hashPassword(password, this.#cost))
  }

  #verify(password: string, stored: string) {
    return this.#hashing.run(() => verifyPassword(password, stored, this.#cost))
  }

  async createUser(input: { email: string; password: string; roles: Role[] }): Promise<UserView> {
    return this.#insertUser(randomUUID(), input)
  }

  async #insertUser(id: string, input: { email: string; password: string; roles: Role[] }): Promise<UserView> {
    const data: User = {
      email: input.email.toLowerCase(),
      passwordHash: await this.#hash(input.password),
      roles: [...new Set(input.roles)],
    }
    try {
      return userView(await this.storage.insert(users, id, data))
    } catch (error) {
      if (error instanceof DuplicateKeyError)
        throw new WarehouseError('ALREADY_EXISTS', `a user with email ${data.email} already exists`)
      throw error
    }
  }

  /**
   * The user, if the password is right; null otherwise, in the same time either way. A hash made
   * at another cost is replaced while the password is at hand, so raising the cost reaches every
   * account that logs in.
   */
  async authenticate(email: string, password: string): Promise<UserView | null> {
    const outcome = await this.login(email, password)
    return 'user' in outcome ? outcome.user : null
  }

  /** As authenticate, and says when the right password belongs to a disabled account. */
  async login(email: string, password: string): Promise<Authentication> {
    const user = await this.storage.findOne(users, { email: email.toLowerCase() })
    if (!user) {
      await this.#hashing.run(() => burnPasswordCheck(password, this.#cost))
      return { refused: 'wrong-credentials' }
    }
    const check = await this.#verify(password, user.data.passwordHash)
    if (!check.ok) return { refused: 'wrong-credentials' }
    if (user.data.disabled) return { refused: 'disabled' }
    if (check.needsRehash) {
      const passwordHash = await this.#hash(password)
      await this.storage.update(users, user, { passwordHash }).catch((error: unknown) => {
        // Changed meanwhile (another login rehashed it first): that write stands.
        if (!(error instanceof VersionConflictError)) throw error
      })
    }
    return { user: userView(user) }
  }

  async listUsers(limit = 500): Promise<UserView[]> {
    return (await this.storage.find(users, { limit })).map(userView)
  }

  /**
   * An admin changes a user's roles or disables them. Refused when it would leave no enabled
   * admin (an admin demoting or disabling themselves, or the last admin): the check and the
   * write are one step across instances (a lock), so two admins demoting each other at once
   * leave one. Disabling revokes every API token the user created (also when the user was
   * disabled already: sending it again finishes one whose revocation failed).
   */
  async updateUser(id: string, change: { roles?: Role[]; disabled?: boolean }, ending: SessionEnding = {}): Promise<UserView> {
    const apply = async () => {
      const user = await this.#loadUser(id)
      const next = {
        roles: change.roles ? [...new Set(change.roles)] : user.data.roles,
        disabled: change.disabled ?? !!user.data.disabled,
      }
      const wasAdmin = user.data.roles.includes('admin') && !user.data.disabled
      const staysAdmin = next.roles.includes('admin') && !next.disabled
      if (wasAdmin && !staysAdmin) {
        const admins = (await this.storage.find(users, { limit: 10_000 })).filter(
          (u) => u.id !== id && u.data.roles.includes('admin') && !u.data.disabled,
        )
        if (admins.length === 0) throw new WarehouseError('SELF_LOCKOUT', 'this would leave no enabled admin')
      }
      await ending.beforeWrite?.()
      const written = userView(await this.#writeUser(user, next))
      if (next.disabled) {
        await this.revokeTokensOf(id).catch((error: unknown) => {
          throw new WarehouseError(
            'TOKENS_NOT_REVOKED',
            'the user is disabled, but the API tokens they created could not be revoked; send it again to revoke them',
            { cause: error },
          )
        })
      }
      return written
    }
    // Only a change that may remove an admin waits for the others that may.
    const mayRemoveAdmin = change.disabled === true || change.roles !== undefined
    return this.#locks && mayRemoveAdmin
      ? this.#locks.runWithLock(ADMIN_ROSTER_LOCK, apply, { ttlMs: 30_000, acquireTimeoutMs: 10_000 })
      : apply()
  }

  /** Sets a new password (an admin's reset, or the user's own change after checkOwnPassword). */
  async setPassword(id: string, password: string, ending: SessionEnding = {}): Promise<UserView> {
    const passwordHash = await this.#hash(password)
    const user = await this.#loadUser(id)
    await ending.beforeWrite?.()
    return userView(await this.#writeUser(user, { passwordHash }))
  }

  /** A user changing their own password proves they know the current one. */
  async changeOwnPassword(id: string, current: string, next: string, ending: SessionEnding = {}): Promise<UserView> {
    const user = await this.#loadUser(id)
    if (!(await this.#verify(current, user.data.passwordHash)).ok) {
      throw new WarehouseError('WRONG_PASSWORD', 'the current password is not right')
    }
    return this.setPassword(id, next, ending)
  }

  async #loadUser(id: string): Promise<Stored<User>> {
    const user = await this.storage.get(users, id)
    if (!user) throw notFound('user', id)
    return user
  }

  #writeUser(user: Stored<User>, patch: Partial<User>): Promise<Stored<User>> {
    return updateOrConflict(this.storage, users, user, patch, 'the user')
  }

  async getUser(id: string): Promise<UserView | null> {
    const user = await this.storage.get(users, id)
    return user ? userView(user) : null
  }

  /** Creates the first admin when no user exists yet. Safe when several instances start at once. */
  async ensureFirstAdmin(email: string, password: string): Promise<'created' | 'exists'> {
    if ((await this.storage.count(users)) > 0) return 'exists'
    try {
      await this.#insertUser(FIRST_ADMIN_ID, { email, password, roles: ['admin'] })
      return 'created'
    } catch (error) {
      if (error instanceof WarehouseError) return 'exists'
      throw error
    }
  }

  /** A token for a machine client, valid `expiresInDays` (at most a year); its secret is in this answer only. */
  async createApiToken(input: {
    name: string
    roles: Role[]
    createdBy: string
    expiresInDays?: number
  }): Promise<IssuedApiToken> {
    const days = Math.min(input.expiresInDays ?? API_TOKEN_LIFETIME_DAYS.default, API_TOKEN_LIFETIME_DAYS.max)
    const id = randomUUID()
    const secret = randomBytes(32).toString('base64url')
    const data: ApiToken = {
      name: input.name,
      roles: [...new Set(input.roles)],
      secretHash: sha256(secret).toString('hex'),
      createdBy: input.createdBy,
      revokedAt: null,
      expiresAt: new Date(Date.now() + days * DAY_MS).toISOString(),
    }
    await this.storage.insert(apiTokens, id, data)
    return { id, name: data.name, roles: data.roles, expiresAt: data.expiresAt!, token: `tms_${id}.${secret}` }
  }

  /** Every token, newest first, with who made it; never a secret. */
  async listApiTokens(limit = 500): Promise<ApiTokenView[]> {
    const tokens = await this.storage.find(apiTokens, { order: 'newest', limit })
    const creators = await this.storage.getMany(users, [...new Set(tokens.map((t) => t.data.createdBy))])
    return tokens.map((token) => ({
      id: token.id,
      name: token.data.name,
      roles: token.data.roles,
      createdBy: { id: token.data.createdBy, email: creators.get(token.data.createdBy)?.data.email ?? null },
      createdAt: token.createdAt.toISOString(),
      expiresAt: expiryOf(token),
      revokedAt: token.data.revokedAt,
    }))
  }

  /** False when there is no such token. Revoking twice is fine. */
  async revokeApiToken(id: string): Promise<boolean> {
    const token = await this.storage.get(apiTokens, id)
    if (!token) return false
    if (token.data.revokedAt === null) await this.storage.update(apiTokens, token, { revokedAt: new Date().toISOString() })
    return true
  }

  /** Revokes every token the user created that is not revoked yet; how many. */
  async revokeTokensOf(userId: string): Promise<number> {
    const live = await this.storage.find(apiTokens, { where: { createdBy: userId, revokedAt: null }, limit: 10_000 })
    const revokedAt = new Date().toISOString()
    const written = await this.storage.updateMany(
      apiTokens,
      live.map((current) => ({ current, patch: { revokedAt } })),
    )
    if (written < live.length) {
      // Written meanwhile (revoked by hand, most likely): look again, one by one.
      for (const token of live) await this.revokeApiToken(token.id)
    }
    return live.length
  }

  async verifyApiToken(presented: string): Promise<Principal | null> {
    const match = TOKEN_FORMAT.exec(presented)
    if (!match) return null
    const stored = await this.storage.get(apiTokens, match[1]!)
    if (!stored || stored.data.revokedAt !== null || Date.parse(expiryOf(stored)) <= Date.now()) return null
    const expected = Buffer.from(stored.data.secretHash, 'hex')
    const actual = sha256(match[2]!)
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null
    return { kind: 'token', id: stored.id, name: stored.data.name, roles: stored.data.roles }
  }
}

/** When a token ends. Tokens made before expiry existed end a year after they were made. */
function expiryOf(token: Stored<ApiToken>): string {
  return token.data.expiresAt ?? new Date(token.createdAt.getTime() + API_TOKEN_LIFETIME_DAYS.max * DAY_MS).toISOString()
}

function userView(user: Stored<User>): UserView {
  return { id: user.id, email: user.data.email, roles: user.data.roles, disabled: !!user.data.disabled }
}
