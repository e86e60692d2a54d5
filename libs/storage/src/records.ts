import {
  FencingTokenRejectedError,
  InvalidCursorError,
  RecordNotFoundError,
  UnsupportedSchemaVersionError,
  VersionConflictError,
} from './errors.js'
import type { CollectionSpec, Stored } from './storage.js'

const NAME = /^[a-z][a-z0-9_]{0,62}$/

export function assertName(kind: string, name: string): string {
  if (!NAME.test(name)) throw new Error(`invalid ${kind} name "${name}": use lower snake case`)
  return name
}

/**
 * The rolling-deploy rule for record shapes: this code reads its own schema version and the
 * previous one (upgrading it in memory); records from a newer version pass through unchanged,
 * because schema changes are additive (expand, then contract one release later).
 */
export function decodeData<T>(spec: CollectionSpec<T>, id: string, schemaVersion: number, data: unknown): T {
  if (schemaVersion >= spec.schemaVersion) return data as T
  if (schemaVersion === spec.schemaVersion - 1) {
    return spec.upgrade ? spec.upgrade(data as Record<string, unknown>) : (data as T)
  }
  throw new UnsupportedSchemaVersionError(spec.name, id, schemaVersion, spec.schemaVersion)
}

/**
 * What an update writes: a patch merged into the stored data, or, when the record is still in
 * the previous shape, the whole upgraded record so it is stored in the current shape.
 */
export function planWrite<T>(
  spec: CollectionSpec<T>,
  current: Stored<T>,
  patch: Partial<T>,
): { replace: boolean; data: Record<string, unknown>; schemaVersion: number } {
  if (current.schemaVersion < spec.schemaVersion) {
    return { replace: true, data: { ...current.data, ...patch } as Record<string, unknown>, schemaVersion: spec.schemaVersion }
  }
  return { replace: false, data: patch as Record<string, unknown>, schemaVersion: current.schemaVersion }
}

/** A cursor: the parts that place a record in creation order, as one opaque string. */
export function encodeCursor(parts: [string, string]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url')
}

export function decodeCursor(cursor: string): [string, string] {
  try {
    const parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (
      Array.isArray(parts) &&
      parts.length === 2 &&
      parts.every((p) => typeof p === 'string' && p.length > 0 && p.length <= 200) &&
      cursor.length <= 600
    ) {
      return parts as [string, string]
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError()
}

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined) return 1000
  return Math.max(1, Math.min(10_000, Math.floor(limit)))
}

/**
 * Why a conditional update wrote nothing, from the record as it is now (null: gone): a newer
 * fencing token won, or another writer changed the version first.
 */
export function rejectedUpdate(
  collection: string,
  current: Pick<Stored<unknown>, 'id' | 'version'>,
  token: number | null,
  now: { version: number; fence: number | null } | null,
): never {
  if (!now) throw new RecordNotFoundError(collection, current.id)
  if (token !== null && now.fence !== null && now.fence > token) {
    throw new FencingTokenRejectedError(collection, current.id, token, now.fence)
  }
  throw new VersionConflictError(collection, current.id, current.version, now.version)
}
