import t from 'tap'
import { defineErrors, isCodedError, TabledError } from '../src/index.js'

const PARCEL_ERRORS = defineErrors({
  TOO_HEAVY: { status: 422 },
  LOST: { status: 410 },
  /** Its message names the depot: callers read the public message. */
  DEPOT_DOWN: { status: 503, publicMessage: 'the depot is unavailable; try again shortly' },
})

class ParcelError extends TabledError<keyof typeof PARCEL_ERRORS> {
  override name = 'ParcelError'
  constructor(code: keyof typeof PARCEL_ERRORS, message: string, options?: ConstructorParameters<typeof TabledError>[3]) {
    super(code, PARCEL_ERRORS, message, options)
  }
}

class ParcelTooHeavy extends ParcelError {
  override name = 'ParcelTooHeavy'
  constructor(readonly kilograms: number) {
    super('TOO_HEAVY', `a parcel of ${kilograms} kg is over the limit`)
  }
}

t.test('a tabled error takes its status and public message from its family’s table', async (t) => {
  t.match(new ParcelError('LOST', 'parcel 7 is lost'), {
    code: 'LOST',
    statusCode: 410,
    message: 'parcel 7 is lost',
    expose: true,
    publicMessage: undefined,
  })
  t.match(new ParcelError('DEPOT_DOWN', 'depot linz-3 (10.0.0.5) refused'), {
    statusCode: 503,
    expose: false,
    publicMessage: 'the depot is unavailable; try again shortly',
  })
  const withMore = new ParcelError('LOST', 'x', {
    details: [{ field: 'body.id', message: 'pick one' }],
    headers: { 'retry-after': '1' },
    cause: new Error('below'),
  })
  t.match(withMore, { details: [{ field: 'body.id' }], headers: { 'retry-after': '1' }, cause: { message: 'below' } })
})

t.test('a family’s subclass carries its own fields; plain errors and look-alikes are not coded', async (t) => {
  const error = new ParcelTooHeavy(31)
  t.ok(isCodedError(error))
  t.match(error, { code: 'TOO_HEAVY', statusCode: 422, expose: true, kilograms: 31, name: 'ParcelTooHeavy' })
  t.ok(error instanceof Error)
  t.notOk(isCodedError(new Error('plain')))
  t.notOk(isCodedError(Object.assign(new Error('look-alike'), { code: 'X', statusCode: 400 })), 'a look-alike is not')
})

t.test('codes are upper snake case, checked when the table is defined', async (t) => {
  t.throws(() => defineErrors({ 'not-a-code': { status: 400 } }), /not-a-code is not upper snake case/)
})
