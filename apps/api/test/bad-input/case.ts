/** One malformed request and the answer it must get. */
export interface Case {
  name: string
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  url: string
  /** Sent as is: a string is a raw body, anything else JSON. */
  body?: unknown
  contentType?: string
  status: number
  /** The field the message must name, for validation errors. */
  field?: RegExp
}

export const ID = '11111111-1111-4111-8111-111111111111'
export const address = { name: 'Ada', street: 'Main 1', city: 'Linz', postalCode: '4020', country: 'AT' }
/** A valid shipment request, with `overrides`. */
export const request = (overrides: Record<string, unknown>) => ({
  orderId: 'o-1',
  items: [{ sku: 'TRK-1', quantity: 1 }],
  address,
  ...overrides,
})
