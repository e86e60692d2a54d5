/** The shop's orders, the same for the same seed: tests and rehearsals can predict them. */
import { seededRandom } from '@tms/sandbox/seeded-random'

export interface ShopOrder {
  seq: number
  id: string
  createdAt: string
  lines: Array<{ sku: string; quantity: number }>
  shipTo: { name: string; street: string; city: string; zip?: string; country: string }
}

const SKUS = ['TRK-DOG-4', 'TRK-DOG-4-BROWN', 'TRK-CAT-4', 'TRK-DOG-XL', 'COLLAR-M', 'COLLAR-L', 'CHARGER-USB-C']
const NAMES = ['Ada Lovelace', 'Jan Novak', 'Maria Huber', 'Luca Rossi', 'Emma Berg', 'Noah Weber', 'Mia Koch', 'Liam Brunner']
const CITIES: Array<[string, string, string]> = [
  ['Linz', '4020', 'AT'],
  ['Wien', '1010', 'AT'],
  ['München', '80331', 'DE'],
  ['Zürich', '8001', 'CH'],
  ['Praha', '11000', 'CZ'],
  ['Milano', '20121', 'IT'],
]

/** How an order can arrive broken, as a real shop's bug or a manual edit would break it. */
export const MALFORMATIONS = {
  // Storable: an operator fixes the address on the request.
  'no-name': (o: ShopOrder) => void delete (o.shipTo as Partial<ShopOrder['shipTo']>).name,
  'no-city': (o: ShopOrder) => void delete (o.shipTo as Partial<ShopOrder['shipTo']>).city,
  // Not storable: quarantined.
  'no-lines': (o: ShopOrder) => void delete (o as Partial<ShopOrder>).lines,
  'bad-quantity': (o: ShopOrder) => void Object.assign(o.lines[0]!, { quantity: 'two' }),
  'huge-name': (o: ShopOrder) => void Object.assign(o.shipTo, { name: 'N'.repeat(10_000) }),
  'no-ship-to': (o: ShopOrder) => void Object.assign(o, { shipTo: null }),
  'bad-id': (o: ShopOrder) => void Object.assign(o, { id: '../../etc/passwd' }),
  // Characters no database text takes: NUL, and half of a surrogate pair.
  'nul-in-name': (o: ShopOrder) => void Object.assign(o.shipTo, { name: 'Ada\u0000Lovelace' }),
  'lone-surrogate-city': (o: ShopOrder) => void Object.assign(o.shipTo, { city: 'Linz\ud800' }),
} as const
export type Malformation = keyof typeof MALFORMATIONS

/** `"2:no-name,4:no-lines"`: which orders arrive broken, and how. */
export function parseMalformed(spec: string): Map<number, Malformation> {
  const malformed = new Map<number, Malformation>()
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [seq, kind] = part.split(':')
    if (!Number.isSafeInteger(Number(seq)) || !Object.hasOwn(MALFORMATIONS, kind ?? '')) {
      throw new Error(`"${part}" is not <seq>:<${Object.keys(MALFORMATIONS).join('|')}>`)
    }
    malformed.set(Number(seq), kind as Malformation)
  }
  return malformed
}

export interface OrderBookOptions {
  seed: number
  /** Orders that exist when the shop starts. */
  initial: number
  /** New orders per minute after that. */
  perMinute: number
  /** Share of orders with a data problem an operator must fix (missing zip, unknown country or SKU). */
  problemRate: number
  startedAt: number
  /** Orders that arrive malformed (see MALFORMATIONS). */
  malformed?: ReadonlyMap<number, Malformation>
}

export class OrderBook {
  constructor(private readonly options: OrderBookOptions) {}

  /** How many orders exist at `now`. */
  count(now = Date.now()): number {
    const { initial, perMinute, startedAt } = this.options
    return initial + (perMinute > 0 ? Math.floor(((now - startedAt) / 60_000) * perMinute) : 0)
  }

  order(seq: number): ShopOrder {
    const { seed, initial, perMinute, startedAt, problemRate } = this.options
    const next = seededRandom(seed * 1_000_003 + seq)
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!
    const [city, zip, country] = pick(CITIES)
    const lines = Array.from({ length: 1 + Math.floor(next() * 3) }, () => ({
      sku: pick(SKUS),
      quantity: 1 + Math.floor(next() * 3),
    }))
    const order: ShopOrder = {
      seq,
      id: `SHOP-${seed}-${seq}`,
      createdAt: new Date(seq <= initial ? startedAt : startedAt + ((seq - initial) * 60_000) / perMinute).toISOString(),
      lines,
      shipTo: { name: pick(NAMES), street: `Hauptstraße ${1 + Math.floor(next() * 120)}`, city, zip, country },
    }
    if (next() < problemRate) {
      const problem = Math.floor(next() * 3)
      if (problem === 0) delete order.shipTo.zip
      if (problem === 1) order.shipTo.country = 'XX'
      if (problem === 2) order.lines[0]!.sku = 'DISCONTINUED-1'
    }
    const malformation = this.options.malformed?.get(seq)
    if (malformation) MALFORMATIONS[malformation](order)
    return order
  }

  /** Orders after `seq` that exist now, oldest first. */
  page(after: number, limit: number, now = Date.now()): { items: ShopOrder[]; next: number } {
    const last = Math.min(this.count(now), after + limit)
    const items: ShopOrder[] = []
    for (let seq = after + 1; seq <= last; seq++) items.push(this.order(seq))
    return { items, next: items.at(-1)?.seq ?? after }
  }
}
