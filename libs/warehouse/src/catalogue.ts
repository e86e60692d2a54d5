import type { Cache } from '@tms/cache'
import { DuplicateKeyError, type Storage } from '@tms/storage'
import { type Product, products } from './collections.js'

/** What a fresh installation sells; operators extend it in the database. */
export const DEFAULT_PRODUCTS: ReadonlyArray<Product> = [
  { sku: 'TRK-DOG-4', name: 'GPS tracker for dogs', edition: 'BLACK-WORLDWIDE' },
  { sku: 'TRK-DOG-4-BROWN', name: 'GPS tracker for dogs', edition: 'BROWN-TEXTURE-WORLDWIDE' },
  { sku: 'TRK-CAT-4', name: 'GPS tracker for cats', edition: 'WHITE-WORLDWIDE' },
  { sku: 'TRK-DOG-XL', name: 'GPS tracker for large dogs', edition: 'BLACK-WORLDWIDE' },
  { sku: 'COLLAR-M', name: 'Tracker collar, medium', edition: 'BLACK' },
  { sku: 'COLLAR-L', name: 'Tracker collar, large', edition: 'BLACK' },
  { sku: 'CHARGER-USB-C', name: 'Charging clip, USB-C', edition: 'STANDARD' },
]

const CATALOGUE_KEY = 'catalogue'

/**
 * The product catalogue: cold data, read on every shipment request, changed rarely. It lives in
 * each instance's memory cache (cold data: no need to share it), refreshed every 5 minutes.
 */
export class Catalogue {
  constructor(
    private readonly storage: Storage,
    private readonly cache: Cache,
  ) {}

  /** Adds the default products that are missing. Safe to run from many instances at once. */
  static async seed(storage: Storage): Promise<void> {
    // Every instance boots through here: read first, so a boot writes nothing once seeded.
    const known = new Set((await storage.find(products, { limit: 10_000 })).map((p) => p.id))
    for (const product of DEFAULT_PRODUCTS) {
      if (known.has(product.sku)) continue
      await storage.insert(products, product.sku, product).catch((error: unknown) => {
        if (!(error instanceof DuplicateKeyError)) throw error
      })
    }
  }

  async products(): Promise<Product[]> {
    return this.cache.cached(
      CATALOGUE_KEY,
      async () => (await this.storage.find(products, { limit: 10_000 })).map((p) => p.data),
      { ttl: '5m' },
    )
  }

  async knownSkus(): Promise<Set<string>> {
    return new Set((await this.products()).map((p) => p.sku))
  }
}
