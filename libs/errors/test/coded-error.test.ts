import t from 'tap'
import { CodedError, isCodedError, TabledError } from '../src/index.js'

class ParcelTooHeavy extends CodedError {
  override name = 'ParcelTooHeavy'
  readonly code = 'PARCEL_TOO_HEAVY'
  readonly statusCode = 422
  constructor(readonly kilograms: number) {
    super(`a parcel of ${kilograms} kg is over the limit`)
  }
}

class Internal extends CodedError {
  readonly code = 'INTERNAL_THING'
  readonly statusCode = 500
  override readonly expose = false
}

t.test('a coded error carries its code, status and own fields; plain errors are not coded', async (t) => {
  const error = new ParcelTooHeavy(31)
  t.ok(isCodedError(error))
  t.match(error, { code: 'PARCEL_TOO_HEAVY', statusCode: 422, expose: true, kilograms: 31, name: 'ParcelTooHeavy' })
  t.ok(error instanceof Error)
  t.equal(new Internal('table x').expose, false, 'a message naming internals is marked so')
  t.notOk(isCodedError(new Error('plain')))
  t.notOk(isCodedError(Object.assign(new Error('look-alike'), { code: 'X', statusCode: 400 })), 'a look-alike is not')
})

t.test('a tabled error takes its status from its family’s table', async (t) => {
  const PARCEL_ERRORS = { TOO_HEAVY: 422, LOST: 410 } as const
  class ParcelError extends TabledError<keyof typeof PARCEL_ERRORS> {
    constructor(code: keyof typeof PARCEL_ERRORS, message: string) {
      super(code, PARCEL_ERRORS, message)
    }
  }
  t.match(new ParcelError('LOST', 'parcel 7 is lost'), {
    code: 'LOST',
    statusCode: 410,
    message: 'parcel 7 is lost',
    expose: true,
  })
  t.ok(isCodedError(new ParcelError('TOO_HEAVY', 'too heavy')))
})
