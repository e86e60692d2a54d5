import t from 'tap'
import { Accounts, FIRST_ADMIN_ID, hasRole } from '../src/accounts.js'
import { users } from '../src/collections.js'
import { WarehouseError } from '../src/errors.js'
import { DEFAULT_SCRYPT_LOG_N, hashPassword, verifyPassword } from '../src/passwords.js'
import { warehouseStorage } from './support.js'

/** Production's cost is ~1 s of CPU a hash: these tests hash at 2^14 unless they test the cost. */
const FAST = { passwordCost: { logN: 14 } }

t.test("passwords: OWASP's scrypt parameters by default (N=2^17, r=8, p=1)", async (t) => {
  t.equal(DEFAULT_SCRYPT_LOG_N, 17)
  const hash = await hashPassword('correct horse battery')
  t.match(hash, /^scrypt\$131072\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
  t.same(await verifyPassword('correct horse battery', hash), { ok: true, needsRehash: false })
  t.same(await verifyPassword('wrong', hash), { ok: false, needsRehash: false })
  t.same(await verifyPassword('x', 'scrypt$nope$8$1$abc$def'), { ok: false, needsRehash: false }, 'a garbled hash is no match')
})

t.test('a login with a hash of another cost stores a new one at the current cost', async (t) => {
  const storage = await warehouseStorage(t)
  await new Accounts(storage, { passwordCost: { logN: 12 } }).createUser({
    email: 'old@example.com',
    password: 'an old password hash',
    roles: ['agent'],
  })
  const stored = async () => (await storage.findOne(users, { email: 'old@example.com' }))!.data.passwordHash
  t.match(await stored(), /^scrypt\$4096\$/)
  const raised = new Accounts(storage, { passwordCost: { logN: 14 } })
  t.equal(await raised.authenticate('old@example.com', 'wrong password'), null)
  t.match(await stored(), /^scrypt\$4096\$/, 'a wrong password changes nothing')
  t.match(await raised.authenticate('old@example.com', 'an old password hash'), { email: 'old@example.com' })
  t.match(await stored(), /^scrypt\$16384\$8\$1\$/, 'rehashed at the new cost')
  t.match(
    await raised.authenticate('old@example.com', 'an old password hash'),
    { email: 'old@example.com' },
    'and it still logs in',
  )
})

t.test('users: created with a hashed password, authenticated, unique by email', async (t) => {
  const storage = await warehouseStorage(t)
  const accounts = new Accounts(storage, FAST)
  const user = await accounts.createUser({ email: 'Agent@Example.com', password: 'correct horse battery', roles: ['agent'] })
  t.match(user, { email: 'agent@example.com', roles: ['agent'] })
  t.same(await accounts.authenticate('agent@example.com', 'correct horse battery'), user)
  t.equal(await accounts.authenticate('agent@example.com', 'wrong'), null)
  t.equal(await accounts.authenticate('nobody@example.com', 'correct horse battery'), null)
  await t.rejects(accounts.createUser({ email: 'agent@example.com', password: 'x'.repeat(12), roles: ['agent'] }), WarehouseError)
  const raw = await storage.findOne((await import('../src/collections.js')).users, { email: 'agent@example.com' })
  t.match(raw?.data.passwordHash, /^scrypt\$16384\$8\$1\$/, 'made at the configured cost')
  t.notMatch(raw?.data.passwordHash, /correct horse/)
})

t.test('two users with one password get different hashes (per-user salt)', async (t) => {
  const accounts = new Accounts(await warehouseStorage(t), FAST)
  const { users } = await import('../src/collections.js')
  await accounts.createUser({ email: 'a@x.io', password: 'same password!', roles: ['agent'] })
  await accounts.createUser({ email: 'b@x.io', password: 'same password!', roles: ['agent'] })
  const storage = (accounts as unknown as { storage: import('@tms/storage').Storage }).storage
  const [a, b] = await Promise.all([storage.findOne(users, { email: 'a@x.io' }), storage.findOne(users, { email: 'b@x.io' })])
  t.not(a?.data.passwordHash, b?.data.passwordHash)
})

t.test('the first admin is created once, even by five instances starting together', async (t) => {
  const storage = await warehouseStorage(t)
  const instances = Array.from({ length: 5 }, () => new Accounts(storage, FAST))
  const outcomes = await Promise.all(instances.map((a) => a.ensureFirstAdmin('admin@tms.local', 'admin password 123')))
  t.equal(outcomes.filter((o) => o === 'created').length, 1)
  t.same(await instances[0]!.getUser(FIRST_ADMIN_ID), {
    id: FIRST_ADMIN_ID,
    email: 'admin@tms.local',
    roles: ['admin'],
    disabled: false,
  })
  t.equal(await instances[0]!.ensureFirstAdmin('other@tms.local', 'admin password 123'), 'exists')
})

t.test('API tokens: shown once, stored hashed, verified, revocable', async (t) => {
  const storage = await warehouseStorage(t)
  const accounts = new Accounts(storage, FAST)
  const issued = await accounts.createApiToken({ name: 'shop-sync', roles: ['operator'], createdBy: 'admin' })
  t.match(issued.token, /^tms_[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/)
  const principal = await accounts.verifyApiToken(issued.token)
  t.same(principal, { kind: 'token', id: issued.id, name: 'shop-sync', roles: ['operator'] })
  const { apiTokens } = await import('../src/collections.js')
  const stored = await storage.get(apiTokens, issued.id)
  t.notMatch(JSON.stringify(stored), issued.token.split('.')[1]!, 'the secret is not stored')
  const tampered = `${issued.token.slice(0, -1)}${issued.token.endsWith('A') ? 'B' : 'A'}`
  t.equal(await accounts.verifyApiToken(tampered), null, 'a tampered secret fails')
  t.equal(await accounts.verifyApiToken('tms_garbage'), null)
  t.equal(await accounts.revokeApiToken(issued.id), true)
  t.equal(await accounts.verifyApiToken(issued.token), null, 'revoked')
  t.equal(await accounts.revokeApiToken('00000000-0000-4000-8000-00000000ffff'), false)
})

t.test('roles are ranked', async (t) => {
  t.ok(hasRole({ roles: ['admin'] }, 'agent'))
  t.ok(hasRole({ roles: ['operator'] }, 'operator'))
  t.notOk(hasRole({ roles: ['agent'] }, 'operator'))
  t.notOk(hasRole({ roles: [] }, 'agent'))
})
