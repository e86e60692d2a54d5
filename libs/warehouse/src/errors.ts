/** A rule of the warehouse was broken by the request; the API turns `kind` into a status code. */
export class WarehouseError extends Error {
  override name = 'WarehouseError'
  constructor(
    readonly kind: 'not-found' | 'conflict' | 'forbidden',
    message: string,
  ) {
    super(message)
  }
}

export const notFound = (what: string, id: string) => new WarehouseError('not-found', `${what} ${id} does not exist`)
export const conflict = (message: string) => new WarehouseError('conflict', message)
