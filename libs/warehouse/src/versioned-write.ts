import { type CollectionSpec, type Storage, type Stored, type UpdateOptions, VersionConflictError } from '@tms/storage'
import { WarehouseError } from './errors.js'

/**
 * A versioned write whose conflict is the caller's to resolve: someone wrote `what` since it
 * was read, so the caller reloads it and tries again (CHANGED_MEANWHILE), never a lost update.
 */
export async function updateOrConflict<T>(
  storage: Storage,
  collection: CollectionSpec<T>,
  current: Stored<T>,
  patch: Partial<T>,
  what: string,
  options: UpdateOptions = {},
): Promise<Stored<T>> {
  try {
    return await storage.update(collection, current, patch, options)
  } catch (error) {
    if (error instanceof VersionConflictError)
      throw new WarehouseError('CHANGED_MEANWHILE', `${what} was changed meanwhile; reload it`)
    throw error
  }
}
