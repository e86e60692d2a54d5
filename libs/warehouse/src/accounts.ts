import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { DuplicateKeyError, type Storage, type Stored, VersionConflictError } from '@tms/storage'
import { type ApiToken, apiTokens, type Role, type User, users } from './collections.js'
import { WarehouseError } from './errors.js'
import { burnPasswordCheck, DEFAULT_SCRYPT_LOG_N, hashPassword, type PasswordCost, verifyPassword } from './passwords.js'

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
}

export interface IssuedApiToken {
  id: string
  name: string
  roles: Role[]
  /** Shown once; only its hash is stored. */
  token: string
}

/** The bootstrap admin has a fixed id, so instances starting at once cannot create two. */
export const FIRST_ADMIN_ID = '00000000-0000-4000-8000-000000000001'

const TOKEN_FORMAT = /^tms_([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/

const ROLE_RANK: Record<Role, number> = { agent: 1, operator: 2, admin: 3 }

/** Roles are ranked: an admin may do what an operator may, an operator what an agent may. */
export function hasRole(principal: Pick<Principal, 'roles'>, required: Role): boolean {
  return principal.roles.some((role) => ROLE_RANK[role] >= ROLE_RANK[required])
}

const sha256 = (value: string) => createHash('sha256').update(value).digest()

export interface AccountsOptions {
  /** scrypt's cost for new hashes; a login with a hash of another cost stores a new one. */
  passwordCost?: PasswordCost
}

export class Accounts {
  readonly #cost: PasswordCost

  constructor(
    private readonly storage: Storage,
    options: AccountsOptions = {},
  ) {
    this.#cost = options.passwordCost ?? { logN: DEFAULT_SCRYPT_LOG_N }
  }

  async createUser(input: { email: string; password: string; roles: Role[] }): Promise<UserView> {
    return this.#insertUser(randomUUID(), input)
  }

  async #insertUser(id: string, input: { email: string; password: string; roles: Role[] }): Promise<UserView> {
    const data: User = {
      email: input.email.toLowerCase(),
      passwordHash: await hashPassword(input.password, this.#cost),
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
    const user = await this.storage.findOne(users, { email: email.toLowerCase() })
    if (!user) return burnPasswordCheck(password, this.#cost).then(() => null)
    const check = await verifyPassword(password, user.data.passwordHash, this.#cost)
    if (!check.ok) return null
    if (check.needsRehash) {
      const passwordHash = await hashPassword(password, this.#cost)
      await this.storage.update(users, user, { passwordHash }).catch((error: unknown) => {
        // Changed meanwhile (another login rehashed it first): that write stands.
        if (!(error instanceof VersionConflictError)) throw error
      })
    }
    return userView(user)
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

  async createApiToken(input: { name: string; roles: Role[]; createdBy: string }): Promise<IssuedApiToken> {
    const id = randomUUID()
    const secret = randomBytes(32).toString('base64url')
    const data: ApiToken = {
      name: input.name,
      roles: [...new Set(input.roles)],
      secretHash: sha256(secret).toString('hex'),
      createdBy: input.createdBy,
      revokedAt: null,
    }
    await this.storage.insert(apiTokens, id, data)
    return { id, name: data.name, roles: data.roles, token: `tms_${id}.${secret}` }
  }

  /** False when there is no such token. Revoking twice is fine. */
  async revokeApiToken(id: string): Promise<boolean> {
    const token = await this.storage.get(apiTokens, id)
    if (!token) return false
    if (token.data.revokedAt === null) await this.storage.update(apiTokens, token, { revokedAt: new Date().toISOString() })
    return true
  }

  async verifyApiToken(presented: string): Promise<Principal | null> {
    const match = TOKEN_FORMAT.exec(presented)
    if (!match) return null
    const stored = await this.storage.get(apiTokens, match[1]!)
    if (!stored || stored.data.revokedAt !== null) return null
    const expected = Buffer.from(stored.data.secretHash, 'hex')
    const actual = sha256(match[2]!)
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null
    return { kind: 'token', id: stored.id, name: stored.data.name, roles: stored.data.roles }
  }
}

function userView(user: Stored<User>): UserView {
  return { id: user.id, email: user.data.email, roles: user.data.roles }
}
