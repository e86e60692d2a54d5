import { assertName } from './records.js'

/** A row of a collection's table as the statements below select it. */
export interface Row {
  id: string
  version: number
  schema_version: number
  fence: string | null
  created_at: Date
  /** created_at as PostgreSQL writes it, to the microsecond (a Date keeps milliseconds only). */
  created_text: string
  updated_at: Date
  data: unknown
}

export const COLUMNS = 'id, version, schema_version, fence, created_at, created_at::text AS created_text, updated_at, data'
/** created_at as PostgreSQL prints it, which is what a cursor carries back. */
const TIMESTAMP_TEXT = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d{1,6})?[+-](\d\d)(:(\d\d))?$/

/**
 * True for a time PostgreSQL can read back: the shape alone let `9999-99-99 99:99:99+00`
 * through to the cast, which failed in the database (a 500 for a crafted cursor).
 */
export function isTimestampText(text: string): boolean {
  const match = TIMESTAMP_TEXT.exec(text)
  if (!match) return false
  const [year, month, day, hour, minute, second, , offsetHours, , offsetMinutes] = match.slice(1).map(Number) as number[]
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate()
  return (
    year! >= 1 &&
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysInMonth &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 59 &&
    offsetHours! <= 15 &&
    (Number.isNaN(offsetMinutes) || offsetMinutes! <= 59)
  )
}

export type AnySearch = { text: string; fields: ReadonlyArray<string> }

export function whereClause(
  where: Record<string, string | null | undefined> | undefined,
  search?: AnySearch,
): {
  clause: string
  params: unknown[]
} {
  const { conditions, params } = whereConditions(where, search)
  return { clause: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params }
}

export function whereConditions(
  where: Record<string, string | null | undefined> | undefined,
  search?: AnySearch,
): {
  conditions: string[]
  params: unknown[]
} {
  const params: unknown[] = []
  const conditions: string[] = []
  for (const [field, value] of Object.entries(where ?? {})) {
    if (value === undefined) continue
    assertName('field', field.toLowerCase())
    if (value === null) {
      conditions.push(`data->>'${field}' IS NULL`)
      continue
    }
    params.push(value)
    conditions.push(`data->>'${field}' = $${params.length}`)
  }
  if (search && search.fields.length > 0) {
    // The text as a LIKE pattern that means only itself: %, _ and the escape character escaped.
    params.push(`%${search.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
    const pattern = `$${params.length}`
    const columns = search.fields.map((field) => {
      if (field === 'id') return 'id'
      assertName('field', field.toLowerCase())
      return `data->>'${field}'`
    })
    conditions.push(`(${columns.map((column) => `${column} ILIKE ${pattern} ESCAPE '\\'`).join(' OR ')})`)
  }
  return { conditions, params }
}
