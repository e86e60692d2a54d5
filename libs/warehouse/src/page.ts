import type { CollectionSpec, FindOptions, Storage, Stored } from '@tms/storage'

/** Which page: `after` is the `nextCursor` of the page before. */
export interface PageRequest {
  after?: string | undefined
  limit: number
}

export interface Page<V> {
  items: V[]
  /** Null on the last page. */
  nextCursor: string | null
}

/** One page of a list: one record more than asked is read to know whether another page follows. */
export async function findPage<T, V>(
  storage: Storage,
  collection: CollectionSpec<T>,
  options: Pick<FindOptions<T>, 'where' | 'order' | 'search'>,
  page: PageRequest,
  view: (stored: Stored<T>) => V,
): Promise<Page<V>> {
  const found = await storage.find(collection, {
    ...options,
    limit: page.limit + 1,
    after: page.after,
  })
  const items = found.slice(0, page.limit)
  return { items: items.map(view), nextCursor: found.length > page.limit ? items.at(-1)!.cursor : null }
}
