import { isCodedError, TabledError } from '@tms/errors'
import { JOB_ERRORS } from '@tms/jobs'
import { type LOCK_ERRORS, LockBusyError, LockError } from '@tms/locks'
import { type STORAGE_ERRORS, StorageError } from '@tms/storage'
import { type WAREHOUSE_ERRORS, WarehouseError } from '@tms/warehouse'
import t from 'tap'
import { type API_ERRORS, ApiError } from '../src/http/api-errors.js'
import { ERROR_CODES, ERROR_DEFINITIONS, ERROR_TABLES } from '../src/http/error-codes.js'
import { answerFor, fieldProblems } from '../src/plugins/error-handler.js'

/** An error of the family of one table, for one of its codes: a code, whatever class throws it. */
class JobError extends TabledError<keyof typeof JOB_ERRORS> {
  constructor(code: keyof typeof JOB_ERRORS, message: string) {
    super(code, JOB_ERRORS, message)
  }
}
const FAMILY: Record<keyof typeof ERROR_TABLES, (code: string, message: string) => Error> = {
  '@tms/storage': (code, message) => new StorageError(code as keyof typeof STORAGE_ERRORS, message),
  '@tms/locks': (code, message) => new LockError(code as keyof typeof LOCK_ERRORS, message),
  '@tms/jobs': (code, message) => new JobError(code as keyof typeof JOB_ERRORS, message),
  '@tms/warehouse': (code, message) => new WarehouseError(code as keyof typeof WAREHOUSE_ERRORS, message),
  'apps/api': (code, message) => new ApiError(code as keyof typeof API_ERRORS, message),
}

/** One error of every code of every table: read from the tables, never listed by hand. */
const EVERY_ERROR = Object.entries(ERROR_TABLES).flatMap(([family, table]) =>
  // A message that names internals, as the libs' own messages do.
  Object.keys(table).map((code) =>
    FAMILY[family as keyof typeof ERROR_TABLES](code, `${code}: users, tms:lock:shipment:s-1, agent-7, 10.0.0.5`),
  ),
)

t.test('every code of every family is documented once, and answered with its own code and status', async (t) => {
  const codes = Object.values(ERROR_TABLES).flatMap((table) => Object.keys(table))
  t.equal(new Set(codes).size, codes.length, `${codes.length} codes, none in two tables`)
  t.same(Object.keys(ERROR_DEFINITIONS).sort(), [...codes].sort())
  for (const error of EVERY_ERROR) {
    t.ok(isCodedError(error), `${error.name} carries a code`)
    if (!isCodedError(error)) continue
    t.equal(ERROR_CODES[error.code], error.statusCode, `${error.code}: documented with status ${error.statusCode}`)
    const answer = answerFor(error)
    t.match(answer, { statusCode: error.statusCode, code: error.code }, `${error.code} answered as itself`)
    t.equal(answer.log, error.statusCode >= 500, `${error.code}: logged only when ours`)
  }
})

t.test('messages naming internals are replaced by the code’s public message', async (t) => {
  for (const error of EVERY_ERROR.filter((e) => isCodedError(e) && !e.expose)) {
    const answer = answerFor(error)
    t.equal(answer.message, ERROR_DEFINITIONS[(error as StorageError).code]!.publicMessage, `${answer.code}: "${answer.message}"`)
    t.notMatch(answer.message, /users|tms:lock|agent-7|10\.0\.0\.5/, 'names nothing inside')
  }
  t.equal(
    answerFor(new LockBusyError('create-shipments')).message,
    'create-shipments is already running',
    'an exposed one keeps its own',
  )
})

t.test('what is not ours: Redis away is a 503, anything else a logged 500', async (t) => {
  t.match(answerFor(new Error('Connection is closed.')), { statusCode: 503, code: 'STORE_UNAVAILABLE', log: true })
  t.match(answerFor(new TypeError("Cannot read properties of undefined (reading 'id')")), {
    statusCode: 500,
    code: 'INTERNAL',
    message: 'an unexpected error occurred; it has been logged',
    log: true,
  })
  class Foreign extends TabledError<'NOBODY_KNOWS'> {
    constructor() {
      super('NOBODY_KNOWS', { NOBODY_KNOWS: { status: 418 } }, 'a code of no family of the API')
    }
  }
  t.match(
    answerFor(new Foreign()),
    { statusCode: 500, code: 'INTERNAL', log: true },
    'a code no table defines is an internal one',
  )
})

t.test('validation problems name the field', async (t) => {
  const error = Object.assign(new Error('body/orderId must match pattern'), {
    validation: [{ instancePath: '/address', keyword: 'required', params: { missingProperty: 'city' } }],
    validationContext: 'body',
  })
  t.same(answerFor(error), {
    statusCode: 400,
    code: 'VALIDATION_FAILED',
    message: 'body.address.city is required',
    details: [{ field: 'body.address.city', message: 'is required' }],
    log: false,
  })
})

t.test('fieldProblems: each kind of problem in words a client can act on, under its full path', async (t) => {
  t.same(
    fieldProblems('body', [
      { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'isAdmin' } },
      { instancePath: '/items/2', keyword: 'enum', params: { allowedValues: ['open', 'packed'] } },
      { instancePath: '/items/0/qty', keyword: 'minimum', message: 'must be >= 1', params: {} },
      { instancePath: '/note', keyword: 'type', params: {} },
      { instancePath: '/address', keyword: 'required', params: {} },
    ]),
    [
      { field: 'body.isAdmin', message: 'is not an allowed field' },
      { field: 'body.items.2', message: 'must be one of open, packed' },
      { field: 'body.items.0.qty', message: 'must be >= 1' },
      { field: 'body.note', message: 'is invalid' },
      { field: 'body.address', message: 'is invalid' },
    ],
  )
  t.same(fieldProblems('querystring', []), [], 'no problems, no details')
})

t.test('a validation answer lists every problem in its message', async (t) => {
  const error = Object.assign(new Error('querystring/limit must be <= 100'), {
    validation: [
      { instancePath: '/limit', keyword: 'maximum', message: 'must be <= 100', params: {} },
      { instancePath: '', keyword: 'required', params: { missingProperty: 'status' } },
    ],
    validationContext: 'querystring',
  })
  t.equal(answerFor(error).message, 'querystring.limit must be <= 100; querystring.status is required')
})
