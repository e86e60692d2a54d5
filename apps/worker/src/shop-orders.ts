import {
  ADDRESS_LIMITS,
  addTextFormats,
  MAX_ITEMS,
  MAX_QUANTITY,
  ORDER_ID_PATTERN,
  type ShipmentRequestInput,
  SKU_PATTERN,
  TEXT_FORMAT_PROBLEMS,
  textLine,
} from '@tms/warehouse'
import { Ajv, type ErrorObject } from 'ajv'

/** Orders asked for per page; the most a page may hold. */
export const PAGE_SIZE = 100

/**
 * An order in the shop's words (`lines`, `shipTo`, `zip`), with the bounds of our own shipment
 * requests. Fields the shop adds are ignored. Address fields may be missing: that is a data
 * problem an operator fixes on the request, not a reason to drop the order.
 */
const shopOrderSchema = {
  type: 'object',
  required: ['seq', 'id', 'lines', 'shipTo'],
  properties: {
    seq: { type: 'integer', minimum: 1 },
    id: { type: 'string', pattern: ORDER_ID_PATTERN },
    createdAt: textLine(64),
    lines: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_ITEMS,
      items: {
        type: 'object',
        required: ['sku', 'quantity'],
        properties: {
          sku: { type: 'string', pattern: SKU_PATTERN },
          quantity: { type: 'integer', minimum: 1, maximum: MAX_QUANTITY },
        },
      },
    },
    shipTo: {
      type: 'object',
      properties: {
        name: textLine(ADDRESS_LIMITS.name),
        street: textLine(ADDRESS_LIMITS.street),
        city: textLine(ADDRESS_LIMITS.city),
        zip: textLine(ADDRESS_LIMITS.postalCode),
        country: textLine(ADDRESS_LIMITS.country),
      },
    },
  },
} as const

/** A page of orders. Each order is checked on its own: one bad order must not cost the page. */
const pageSchema = {
  type: 'object',
  required: ['items', 'next'],
  properties: { items: { type: 'array', maxItems: PAGE_SIZE }, next: { type: 'integer', minimum: 0 } },
} as const

/** An order as the web shop sends it, once checked. */
export interface ShopOrder {
  seq: number
  id: string
  createdAt?: string
  lines: Array<{ sku: string; quantity: number }>
  shipTo: { name?: string; street?: string; city?: string; zip?: string; country?: string }
}

export interface OrdersPage {
  /** Unchecked: see checkShopOrder. */
  items: unknown[]
  /** The cursor for the next page: the last `seq` returned (or the one asked for if none). */
  next: number
}

// allErrors off: the first problem is enough to quarantine an order, and checking stops there
// however large the order is.
const ajv = new Ajv({ allErrors: false, strict: false })
addTextFormats(ajv)
const validOrder = ajv.compile<ShopOrder>(shopOrderSchema)
const validPage = ajv.compile<OrdersPage>(pageSchema)

const describe = (errors: ErrorObject[] | null | undefined, what: string) =>
  (errors ?? []).map(
    (e) =>
      `${what}${e.instancePath.replaceAll('/', '.')} ${(e.keyword === 'format' && TEXT_FORMAT_PROBLEMS[e.params.format as string]) || e.message || 'is invalid'}`,
  )

/** The page's own shape, or the problems with it (then nothing on it can be trusted). */
export function checkPage(raw: unknown): { ok: true; page: OrdersPage } | { ok: false; problems: string[] } {
  return validPage(raw) ? { ok: true, page: raw } : { ok: false, problems: describe(validPage.errors, 'page') }
}

export type CheckedOrder = { ok: true; order: ShopOrder } | { ok: false; problems: string[] }

export function checkShopOrder(raw: unknown): CheckedOrder {
  return validOrder(raw) ? { ok: true, order: raw } : { ok: false, problems: describe(validOrder.errors, 'order') }
}

/** The shop's order in our words. Missing address fields pass as empty: the request records them as data problems. */
export function toShipmentRequest(order: ShopOrder): ShipmentRequestInput {
  const { name = '', street = '', city = '', zip, country = '' } = order.shipTo
  return {
    orderId: order.id,
    items: order.lines.map(({ sku, quantity }) => ({ sku, quantity })),
    address: { name, street, city, ...(zip === undefined ? {} : { postalCode: zip }), country },
  }
}
