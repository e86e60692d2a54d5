import { createStore, del, entries, set } from 'idb-keyval'

/**
 * A write the user asked for and the API has not answered yet. Kept in IndexedDB, so a reload
 * (or a crash of the tab) does not lose it: the app sends it again, with the same
 * Idempotency-Key, and the API does it at most once.
 */
export interface PendingWrite {
  key: string
  /** Whose action it is: it is sent again only in that user's session. */
  userId: string
  method: 'POST' | 'PATCH' | 'DELETE'
  path: string
  body?: unknown
  /** What the user did, in words ("Pack shipment o-17"). */
  label: string
  createdAt: number
}

const store = createStore('tms-packing-station', 'outbox')

export const outbox = {
  put: (write: PendingWrite) => set(write.key, write, store),
  remove: (key: string) => del(key, store),
  async of(userId: string): Promise<PendingWrite[]> {
    const all = (await entries<string, PendingWrite>(store)).map(([, write]) => write)
    return all.filter((w) => w.userId === userId).sort((a, b) => a.createdAt - b.createdAt)
  },
}

/** An Idempotency-Key: 128 random bits. getRandomValues, unlike randomUUID, also works on plain http. */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
