import type { Cache } from '@tms/cache'
import { DuplicateKeyError, type Storage, VersionConflictError } from '@tms/storage'
import { type Product, products } from './collections.js'

/** What a fresh installation sells; operators extend it in the database. */
export const DEFAULT_PRODUCTS: ReadonlyArray<Product> = [
  { sku: 'TRK-DOG-4', name: 'GPS tracker for dogs', edition: 'BLACK-WORLDWIDE', modelNumber: 'TG5' },
  { sku: 'TRK-DOG-4-BROWN', name: 'GPS tracker for dogs', edition: 'BROWN-TEXTURE-WORLDWIDE', modelNumber: 'TG5' },
  { sku: 'TRK-CAT-4', name: 'GPS tracker for cats', edition: 'WHITE-WORLDWIDE', modelNumber: 'TC4' },
  { sku: 'TRK-DOG-XL', name: 'GPS tracker for large dogs', edition: 'BLACK-WORLDWIDE', modelNumber: 'TG5-XL' },
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

  /**
   * Adds the default products that are missing, and their model number to default products
   * stored before products had one. Safe to run from many instances at once.
   */
  static async seed(storage: Storage): Promise<void> {
    // Every instance boots through here: read first, so a boot writes nothing once seeded.
    const known = new Map((await storage.find(products, { limit: 10_000 })).map((p) => [p.id, p]))
    for (const product of DEFAULT_PRODUCTS) {
      const stored = known.get(product.sku)
      const { modelNumber } = product
      let write: Promise<unknown>
      if (!stored) write = storage.insert(products, product.sku, product)
      else if (modelNumber && !stored.data.modelNumber) write = storage.update(products, stored, { modelNumber })
      else continue
      await write.catch((error: unknown) => {
        // Another instance did it first.
        if (!(error instanceof DuplicateKeyError || error instanceof VersionConflictError)) throw error
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

  /** Whether devices of this model and edition exist in the catalogue (as some product's). */
  async knowsModel(modelNumber: string, hardwareEdition: string): Promise<boolean> {
    return (await this.knownModels()).has(Catalogue.modelKey(modelNumber, hardwareEdition))
  }

  /** Every model and edition of the catalogue, as modelKey()s: one read for many checks. */
  async knownModels(): Promise<Set<string>> {
    return new Set((await this.products()).flatMap((p) => (p.modelNumber ? [Catalogue.modelKey(p.modelNumber, p.edition)] : [])))
  }

  static modelKey(modelNumber: string, hardwareEdition: string): string {
    return `${modelNumber} ${hardwareEdition}`
  }

  async knownSkus(): Promise<Set<string>> {
    return new Set((await this.products()).map((p) => p.sku))
  }
}
