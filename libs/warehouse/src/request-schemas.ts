/**
 * What a shipment request may hold, as JSON schemas: the API validates what clients send with
 * them and the worker what the web shop sends, so both agree on every bound.
 */

/** An order id: the idempotency key of a shipment request. */
export const ORDER_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'
export const SKU_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'
export const MAX_ITEMS = 200
export const MAX_QUANTITY = 10_000
export const ADDRESS_LIMITS = { name: 200, street: 200, city: 100, postalCode: 20, country: 56 } as const

const text = (maxLength: number) => ({ type: 'string', maxLength }) as const

export const itemSchema = {
  type: 'object',
  properties: {
    sku: { type: 'string', pattern: SKU_PATTERN },
    quantity: { type: 'integer', minimum: 1, maximum: MAX_QUANTITY },
  },
  required: ['sku', 'quantity'],
  additionalProperties: false,
} as const

export const addressSchema = {
  type: 'object',
  properties: {
    name: text(ADDRESS_LIMITS.name),
    street: text(ADDRESS_LIMITS.street),
    city: text(ADDRESS_LIMITS.city),
    postalCode: text(ADDRESS_LIMITS.postalCode),
    country: text(ADDRESS_LIMITS.country),
  },
  required: ['name', 'street', 'city', 'country'],
  additionalProperties: false,
} as const

export const shipmentRequestInputSchema = {
  type: 'object',
  properties: {
    orderId: { type: 'string', pattern: ORDER_ID_PATTERN },
    items: { type: 'array', items: itemSchema, minItems: 1, maxItems: MAX_ITEMS },
    address: addressSchema,
  },
  required: ['orderId', 'items', 'address'],
  additionalProperties: false,
} as const
