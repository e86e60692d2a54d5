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

/**
 * Text people type, in two formats that every text field of the API and of the web shop's
 * orders carries: no control characters (PostgreSQL's jsonb refuses NUL; the rest have no place
 * in a name or an address) and no unpaired surrogates (half a character: not Unicode, refused
 * by jsonb too). `text-lines` allows tab and line breaks, for fields of several lines.
 */
export const TEXT_FORMATS = { line: 'text-line', lines: 'text-lines' } as const

/** What a 400 says of a field that breaks one of the TEXT_FORMATS. */
export const TEXT_FORMAT_PROBLEMS: Record<string, string> = {
  [TEXT_FORMATS.line]: 'must be one line of text: no control characters or unpaired surrogates',
  [TEXT_FORMATS.lines]: 'must be text: no control characters (but tab and line breaks) or unpaired surrogates',
}

/** The position of the first character text may not hold, or -1. */
export function firstForbiddenCharacter(text: string, allowLineBreaks: boolean): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20) {
      if (!(allowLineBreaks && (code === 0x09 || code === 0x0a || code === 0x0d))) return i
    } else if (code === 0x7f) {
      return i
    } else if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) i++
      else return i
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return i
    }
  }
  return -1
}

/** Teaches an Ajv instance the TEXT_FORMATS (the API's validators and the worker's order check). */
export function addTextFormats(ajv: {
  addFormat(name: string, format: { type: 'string'; validate: (text: string) => boolean }): unknown
}) {
  ajv.addFormat(TEXT_FORMATS.line, { type: 'string', validate: (text) => firstForbiddenCharacter(text, false) === -1 })
  ajv.addFormat(TEXT_FORMATS.lines, { type: 'string', validate: (text) => firstForbiddenCharacter(text, true) === -1 })
}

/** One line of text, at most `maxLength` characters. */
export const textLine = (maxLength: number) => ({ type: 'string', format: TEXT_FORMATS.line, maxLength }) as const
/** Text of one or more lines, 1 to `maxLength` characters. */
export const textLines = (maxLength: number) => ({ type: 'string', format: TEXT_FORMATS.lines, minLength: 1, maxLength }) as const

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
    name: textLine(ADDRESS_LIMITS.name),
    street: textLine(ADDRESS_LIMITS.street),
    city: textLine(ADDRESS_LIMITS.city),
    postalCode: textLine(ADDRESS_LIMITS.postalCode),
    country: textLine(ADDRESS_LIMITS.country),
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
