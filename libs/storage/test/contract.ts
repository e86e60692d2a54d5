import type { Test } from 'tap'
import {
  DuplicateKeyError,
  FencingTokenRejectedError,
  InvalidCursorError,
  RecordNotFoundError,
  UnsupportedSchemaVersionError,
  VersionConflictError,
} from '../src/errors.js'
import type { CollectionSpec, Storage } from '../src/storage.js'

/**
 * The storage contract: every adapter must pass exactly these tests. `open` returns a new
 * storage on an isolated, empty namespace (schema or database) shared by all calls of one test.
 */
export type OpenIsolated = (t: Test) => { open: () => Storage }

interface Account {
  email: string
  status: string
  displayName?: string
  extra?: string
}

const accounts: CollectionSpec<Account> = {
  name: 'accounts',
  schemaVersion: 2,
  // v1 stored `name`; v2 calls it `displayName`.
  upgrade: (previous) => {
    const { name, ...rest } = previous as unknown as { name?: string } & Account
    return { ...rest, displayName: name ?? rest.displayName ?? '' }
  },
  unique: ['email'],
  indexed: ['status'],
}
/** The same collection at other shape versions, none of which knows how to upgrade. */
const { upgrade: _upgrade, ...withoutUpgrade } = accounts
const accountsV1 = { ...withoutUpgrade, schemaVersion: 1 } as unknown as CollectionSpec<Record<string, unknown>>
const accountsV3: CollectionSpec<Account> = { ...withoutUpgrade, schemaVersion: 3 }
const accountsV4: CollectionSpec<Account> = { ...withoutUpgrade, schemaVersion: 4 }

export function storageContract(t: Test, isolate: OpenIsolated): void {
  async function ready(tt: Test): Promise<Storage> {
    const { open } = isolate(tt)
    const storage = open()
    tt.teardown(() => storage.close())
    await storage.migrate([accounts])
    return storage
  }

  t.test('migrate is idempotent and safe when several instances start at once', async (tt) => {
    const { open } = isolate(tt)
    const instances = Array.from({ length: 5 }, () => open())
    tt.teardown(() => Promise.all(instances.map((s) => s.close())))
    await Promise.all(instances.map((s) => s.migrate([accounts])))
    await Promise.all(instances.map((s) => s.migrate([accounts])))
    const stored = await instances[0]!.insert(accounts, 'a1', { email: 'a@x.io', status: 'active' })
    tt.equal((await instances[4]!.get(accounts, 'a1'))?.data.email, 'a@x.io')
    tt.equal(stored.version, 1)
  })

  t.test('insert and read back a record with its metadata', async (tt) => {
    const storage = await ready(tt)
    const stored = await storage.insert(accounts, 'a1', { email: 'a@x.io', status: 'active', displayName: 'Ann' })
    tt.match(stored, { id: 'a1', version: 1, schemaVersion: 2, fence: null, data: { email: 'a@x.io', displayName: 'Ann' } })
    tt.ok(stored.createdAt instanceof Date)
    const read = await storage.get(accounts, 'a1')
    tt.same(read?.data, stored.data)
    tt.equal(await storage.get(accounts, 'missing'), null)
  })

  t.test('duplicate id and duplicate unique field are rejected by name', async (tt) => {
    const storage = await ready(tt)
    await storage.insert(accounts, 'a1', { email: 'a@x.io', status: 'active' })
    const dupId = await storage.insert(accounts, 'a1', { email: 'b@x.io', status: 'active' }).catch((e: unknown) => e)
    tt.type(dupId, DuplicateKeyError)
    tt.equal((dupId as DuplicateKeyError).field, 'id')
    const dupEmail = await storage.insert(accounts, 'a2', { email: 'a@x.io', status: 'active' }).catch((e: unknown) => e)
    tt.type(dupEmail, DuplicateKeyError)
    tt.equal((dupEmail as DuplicateKeyError).field, 'email')
    tt.equal(await storage.count(accounts), 1, 'nothing half-written')
  })

  t.test('insertMany writes the free records at once and leaves out every conflict', async (tt) => {
    const storage = await ready(tt)
    await storage.insert(accounts, 'taken', { email: 'taken@x.io', status: 'active' })
    const inserted = await storage.insertMany(accounts, [
      { id: 'b1', data: { email: 'b1@x.io', status: 'active' } },
      { id: 'taken', data: { email: 'other@x.io', status: 'active' } },
      { id: 'b2', data: { email: 'taken@x.io', status: 'active' } },
      { id: 'b3', data: { email: 'b3@x.io', status: 'locked' } },
      { id: 'b4', data: { email: 'b3@x.io', status: 'active' } },
    ])
    tt.same([...inserted].sort(), ['b1', 'b3'], 'a taken id, a taken unique field and a repeat within the batch are left out')
    tt.equal(await storage.count(accounts), 3)
    tt.match(await storage.get(accounts, 'b3'), { version: 1, schemaVersion: 2, data: { email: 'b3@x.io', status: 'locked' } })
    tt.equal((await storage.get(accounts, 'taken'))?.data.email, 'taken@x.io', 'what was stored stays')
    tt.same(await storage.insertMany(accounts, []), new Set())

    const batch = (from: number) =>
      Array.from({ length: 20 }, (_, i) => ({ id: `c${from + i}`, data: { email: `c${from + i}@x.io`, status: 'active' } }))
    const [first, second] = await Promise.all([storage.insertMany(accounts, batch(0)), storage.insertMany(accounts, batch(10))])
    tt.equal(first.size + second.size, 30, 'two overlapping batches at once: every record once')
    tt.equal(await storage.count(accounts), 33)
  })

  t.test('getMany reads the records of many ids at once, leaving out the missing', async (tt) => {
    const storage = await ready(tt)
    await storage.insert(accounts, 'a', { email: 'a@x.io', status: 'active' })
    await storage.insert(accountsV1, 'old', { email: 'old@x.io', status: 'active', name: 'Olga' })
    const found = await storage.getMany(accounts, ['a', 'missing', 'old', 'a'])
    tt.same([...found.keys()].sort(), ['a', 'old'])
    tt.match(found.get('a'), { id: 'a', version: 1, data: { email: 'a@x.io' } })
    tt.same(found.get('old')?.data, { email: 'old@x.io', status: 'active', displayName: 'Olga' }, 'upgraded as get does')
    tt.same(await storage.getMany(accounts, []), new Map())
  })

  t.test('updateMany writes every record still at the version read, in one call, and skips the rest', async (tt) => {
    const storage = await ready(tt)
    const a = await storage.insert(accounts, 'a', { email: 'a@x.io', status: 'active' })
    const b = await storage.insert(accounts, 'b', { email: 'b@x.io', status: 'active' })
    await storage.insert(accountsV1, 'old', { email: 'old@x.io', status: 'active', name: 'Olga' })
    const old = (await storage.get(accounts, 'old'))!
    await storage.update(accounts, b, { displayName: 'written since' })
    const written = await storage.updateMany(accounts, [
      { current: a, patch: { status: 'locked' } },
      { current: b, patch: { status: 'locked' } },
      { current: old, patch: { status: 'locked' } },
    ])
    tt.equal(written, 2, 'the record written since it was read is left out')
    tt.match(await storage.get(accounts, 'a'), { version: 2, data: { email: 'a@x.io', status: 'locked' } })
    tt.match(await storage.get(accounts, 'b'), { version: 2, data: { status: 'active', displayName: 'written since' } })
    const upgraded = await storage.get(accountsV3, 'old')
    tt.equal(upgraded?.schemaVersion, 2, 'a record of the previous shape is stored in the current one')
    tt.same(upgraded?.data, { email: 'old@x.io', status: 'locked', displayName: 'Olga' })
    tt.equal(await storage.updateMany(accounts, []), 0)

    const fresh = await storage.find(accounts, { limit: 10 })
    const racing = await Promise.all([
      storage.updateMany(
        accounts,
        fresh.map((current) => ({ current, patch: { extra: 'one' } })),
      ),
      storage.updateMany(
        accounts,
        fresh.map((current) => ({ current, patch: { extra: 'two' } })),
      ),
    ])
    tt.equal(racing[0] + racing[1], fresh.length, 'two writers of the same versions: each record written once')
  })

  t.test('concurrent inserts of one unique value: exactly one wins', async (tt) => {
    const storage = await ready(tt)
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => storage.insert(accounts, `a${i}`, { email: 'same@x.io', status: 'active' })),
    )
    tt.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    tt.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof DuplicateKeyError))
  })

  t.test('find filters by field, orders by creation, limits; count and countBy agree', async (tt) => {
    const storage = await ready(tt)
    for (let i = 0; i < 6; i++) {
      await storage.insert(accounts, `a${i}`, { email: `${i}@x.io`, status: i % 3 === 0 ? 'locked' : 'active' })
    }
    const active = await storage.find(accounts, { where: { status: 'active' } })
    tt.same(
      active.map((r) => r.id),
      ['a1', 'a2', 'a4', 'a5'],
    )
    const newest = await storage.find(accounts, { where: { status: 'active' }, order: 'newest', limit: 2 })
    tt.same(
      newest.map((r) => r.id),
      ['a5', 'a4'],
    )
    tt.equal((await storage.findOne(accounts, { email: '3@x.io' }))?.id, 'a3')
    tt.equal(await storage.findOne(accounts, { email: 'nobody@x.io' }), null)
    tt.equal(await storage.count(accounts, { status: 'locked' }), 2)
    tt.same(await storage.countBy(accounts, 'status'), { active: 4, locked: 2 })
    tt.same(await storage.find(accounts, { where: { status: "x' OR '1'='1" } }), [], 'values are parameters, never SQL')
  })

  t.test('where null matches a field that is null or absent', async (tt) => {
    const storage = await ready(tt)
    await storage.insert(accounts, 'absent', { email: 'a@x.io', status: 'active' })
    await storage.insert(accounts, 'null', { email: 'n@x.io', status: 'active', extra: null } as unknown as Account)
    await storage.insert(accounts, 'set', { email: 's@x.io', status: 'active', extra: 'x' })
    await storage.insert(accounts, 'other', { email: 'o@x.io', status: 'locked' })
    const found = await storage.find(accounts, { where: { status: 'active', extra: null } })
    tt.same(
      found.map((r) => r.id),
      ['absent', 'null'],
    )
    tt.equal(await storage.count(accounts, { extra: null }), 3)
  })

  t.test('update merges the patch, bumps the version and keeps fields it does not know', async (tt) => {
    const storage = await ready(tt)
    const v1 = await storage.insert(accounts, 'a1', { email: 'a@x.io', status: 'active', extra: 'from a newer version' })
    const v2 = await storage.update(accounts, v1, { status: 'locked' })
    tt.equal(v2.version, 2)
    tt.same((await storage.get(accounts, 'a1'))?.data, { email: 'a@x.io', status: 'locked', extra: 'from a newer version' })
  })

  t.test('an update against a stale version fails and overwrites nothing', async (tt) => {
    const storage = await ready(tt)
    const original = await storage.insert(accounts, 'a1', { email: 'a@x.io', status: 'active' })
    await storage.update(accounts, original, { status: 'locked' })
    const stale = await storage.update(accounts, original, { status: 'deleted' }).catch((e: unknown) => e)
    tt.type(stale, VersionConflictError)
    tt.match(stale, { expectedVersion: 1, actualVersion: 2 })
    tt.equal((await storage.get(accounts, 'a1'))?.data.status, 'locked')
  })

  t.test('10 concurrent updates from the same version: exactly one succeeds', async (tt) => {
    const storage = await ready(tt)
    const original = await storage.insert(accounts, 'a1', { email: 'a@x.io', status: 'active' })
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => storage.update(accounts, original, { status: `s${i}` })),
    )
    tt.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    tt.equal((await storage.get(accounts, 'a1'))?.version, 2)
  })

  t.test('update or delete of a missing record', async (tt) => {
    const storage = await ready(tt)
    const ghost = await storage.insert(accounts, 'a1', { email: 'a@x.io', status: 'active' })
    tt.equal(await storage.delete(accounts, 'a1'), true)
    tt.equal(await storage.delete(accounts, 'a1'), false)
    await tt.rejects(storage.update(accounts, ghost, { status: 'x' }), RecordNotFoundError)
  })

  t.test('records of the previous schema version are upgraded on read and rewritten on update', async (tt) => {
    const storage = await ready(tt)
    const old = await storage.insert(accountsV1, 'a1', { email: 'old@x.io', status: 'active', name: 'Olga' })
    tt.equal(old.schemaVersion, 1)
    const read = await storage.get(accounts, 'a1')
    tt.same(read?.data, { email: 'old@x.io', status: 'active', displayName: 'Olga' })
    tt.equal(read?.schemaVersion, 1, 'the stored shape is still v1')
    const updated = await storage.update(accounts, read!, { status: 'locked' })
    tt.equal(updated.schemaVersion, 2)
    const again = await storage.get(accountsV3, 'a1')
    tt.same(again?.data, { email: 'old@x.io', status: 'locked', displayName: 'Olga' }, 'stored in the v2 shape')
  })

  t.test('records of a newer schema version pass through; a patch keeps the newer version', async (tt) => {
    const storage = await ready(tt)
    const newer = await storage.insert(accountsV3, 'a1', { email: 'new@x.io', status: 'active', extra: 'v3 field' })
    const read = await storage.get(accounts, 'a1')
    tt.same(read?.data, { email: 'new@x.io', status: 'active', extra: 'v3 field' })
    const updated = await storage.update(accounts, read!, { status: 'locked' })
    tt.equal(updated.schemaVersion, 3)
    tt.equal(newer.schemaVersion, 3)
  })

  t.test('records older than the previous schema version are refused, not misread', async (tt) => {
    const storage = await ready(tt)
    await storage.insert(accountsV1, 'a1', { email: 'old@x.io', status: 'active', name: 'Olga' })
    await tt.rejects(storage.get(accountsV4, 'a1'), UnsupportedSchemaVersionError)
  })

  t.test('fencing: a paused holder with an older token cannot overwrite the newer write', async (tt) => {
    const storage = await ready(tt)
    const seen = await storage.insert(accounts, 'a1', { email: 'a@x.io', status: 'active' })
    const newer = await storage.update(accounts, seen, { status: 'by-holder-7' }, { fencingToken: 7 })
    tt.equal(newer.fence, 7)
    const again = await storage.update(accounts, newer, { status: 'holder-7-again' }, { fencingToken: 7 })
    tt.equal(again.fence, 7, 'the same holder may write twice')
    const paused = await storage.update(accounts, again, { status: 'by-holder-6' }, { fencingToken: 6 }).catch((e: unknown) => e)
    tt.type(paused, FencingTokenRejectedError)
    tt.match(paused, { token: 6, lastAccepted: 7 })
    tt.equal((await storage.get(accounts, 'a1'))?.data.status, 'holder-7-again')
    const unfenced = await storage.update(accounts, again, { status: 'plain' })
    tt.equal(unfenced.fence, 7, 'an unfenced write keeps the last token')
  })

  t.test('pages by cursor: every record once, in order, both ways, even within one instant', async (tt) => {
    const storage = await ready(tt)
    // Inserted at once: many share a creation millisecond, some perhaps a microsecond.
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        storage.insert(accounts, `a${String(i).padStart(2, '0')}`, { email: `a${i}@x.io`, status: i % 2 ? 'odd' : 'even' }),
      ),
    )
    for (const order of ['oldest', 'newest'] as const) {
      const seen: string[] = []
      let after: string | undefined
      for (let page = 0; page < 10; page++) {
        const records = await storage.find(accounts, { order, limit: 7, ...(after ? { after } : {}) })
        seen.push(...records.map((r) => r.id))
        if (records.length < 7) break
        after = records.at(-1)!.cursor
      }
      const all = (await storage.find(accounts, { order, limit: 100 })).map((r) => r.id)
      tt.same(seen, all, `${order} first: pages of 7 give all 25 in the same order`)
      tt.equal(new Set(seen).size, 25)
    }
    const odd = await storage.find(accounts, { where: { status: 'odd' }, limit: 5 })
    const rest = await storage.find(accounts, { where: { status: 'odd' }, limit: 100, after: odd.at(-1)!.cursor })
    tt.equal(odd.length + rest.length, 12, 'with a filter too')
    tt.ok(rest.every((r) => r.data.status === 'odd'))
    const crafted = [
      '["9999-99-99 99:99:99+00","x"]',
      '["2026-02-30 10:00:00+00","x"]',
      '["2026-12-07 24:00:00+00","x"]',
      '["2026-12-07 10:00:00+99","x"]',
      '["99999999999999999","x"]',
      '["9999999999999999","x"]',
    ].map((text) => Buffer.from(text).toString('base64url'))
    for (const bad of ['nope', Buffer.from('["x","y"]').toString('base64url'), 'W10', ...crafted]) {
      await tt.rejects(storage.find(accounts, { after: bad }), InvalidCursorError, `cursor ${bad} refused`)
    }
  })

  t.test('search: id or fields containing a text, any case, only itself, with a filter and pages', async (tt) => {
    const storage = await ready(tt)
    const rows: Array<[string, Account]> = [
      ['MB-7-001', { email: 'one@x.io', status: 'odd', displayName: 'Ada' }],
      ['mb-7-002', { email: 'two@x.io', status: 'odd', displayName: 'Bob MB-7' }],
      ['DEV-3', { email: 'mb-7@x.io', status: 'even', displayName: 'Cy' }],
      ['DEV-4', { email: 'four@x.io', status: 'odd', displayName: '100%_sure' }],
      ['DEV-5', { email: 'five@x.io', status: 'odd', displayName: '100 x sure' }],
    ]
    for (const [id, data] of rows) await storage.insert(accounts, id, data)
    const ids = async (text: string, where = {}, fields: Array<'id' | 'email' | 'displayName'> = ['id', 'displayName']) =>
      (await storage.find(accounts, { where, search: { text, fields }, limit: 100 })).map((r) => r.id)
    tt.same(await ids('mb-7'), ['MB-7-001', 'mb-7-002'], 'in the id, or in a named field, whatever the case')
    tt.same(await ids('mb-7', {}, ['id', 'email']), ['MB-7-001', 'mb-7-002', 'DEV-3'], 'another field')
    tt.same(await ids('mb-7', { status: 'even' }), [], 'inside the filter only')
    tt.same(await ids('%_'), ['DEV-4'], '% and _ mean themselves')
    tt.same(await ids('.*'), [], 'and so do a regular expression’s characters')
    tt.equal(await storage.count(accounts, { status: 'odd' }, { text: 'MB-7', fields: ['id', 'displayName'] }), 2, 'count agrees')
    const first = await storage.find(accounts, { search: { text: 'dev', fields: ['id'] }, limit: 2 })
    const rest = await storage.find(accounts, { search: { text: 'dev', fields: ['id'] }, limit: 2, after: first.at(-1)!.cursor })
    tt.same(
      [...first, ...rest].map((r) => r.id),
      ['DEV-3', 'DEV-4', 'DEV-5'],
      'pages by cursor',
    )
  })

  t.test('max of a numeric field; null when empty', async (tt) => {
    const storage = await ready(tt)
    const counters: CollectionSpec<{ number: number }> = { name: 'counters', schemaVersion: 1, unique: ['number'] as never }
    await storage.migrate([counters])
    tt.equal(await storage.max(counters, 'number'), null)
    for (const number of [3, 12, 7]) await storage.insert(counters, `c${number}`, { number })
    tt.equal(await storage.max(counters, 'number'), 12, 'numerically, not as text ("7" > "12")')
  })

  t.test('ping answers', async (tt) => {
    const storage = await ready(tt)
    await storage.ping()
    tt.pass()
  })
}
