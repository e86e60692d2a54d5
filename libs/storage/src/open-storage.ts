import { MongoStorage } from './mongodb-storage.js'
import { PostgresStorage } from './postgres-storage.js'
import type { Storage } from './storage.js'

export interface OpenStorageOptions {
  applicationName?: string
  onError?: (error: Error) => void
}

/** Chooses the adapter by the URL's scheme: postgres(ql):// or mongodb(+srv)://. */
export function openStorage(url: string, options: OpenStorageOptions = {}): Storage {
  const scheme = new URL(url).protocol
  switch (scheme) {
    case 'postgres:':
    case 'postgresql:':
      return new PostgresStorage({ url, ...options })
    case 'mongodb:':
    case 'mongodb+srv:':
      return new MongoStorage({ url, applicationName: options.applicationName })
    default:
      throw new Error(`DATABASE_URL scheme ${scheme} is not supported: use postgres:// or mongodb://`)
  }
}
