import { isCodedError } from '@tms/errors'
import { UnknownScheduleError } from '@tms/jobs'
import { HeldLimitError, LockBusyError, LockLostError, LockTimeoutError, NotLockHolderError, ObjectLockedError } from '@tms/locks'
import {
  DuplicateKeyError,
  FencingTokenRejectedError,
  RecordNotFoundError,
  StorageError,
  StorageUnavailableError,
  UnsupportedSchemaVersionError,
  VersionConflictError,
} from '@tms/storage'
import { PasswordHashingBusyError, WAREHOUSE_ERRORS, WarehouseError } from '@tms/warehouse'
import t from 'tap'
import { API_ERRORS, ApiError } from '../src/http/api-errors.js'
import { ERROR_CODES, PUBLIC_MESSAGES } from '../src/http/error-codes.js'
import { answerFor, fieldProblems } from '../src/plugins/error-handler.js'

/** One of every coded error the libs and the API throw. */
const EVERY_ERROR = [
  new DuplicateKeyError('users', 'email'),
  new VersionConflictError('shipments', 's-1', 2, 3),
  new FencingTokenRejectedError('shipments', 's-1', 7, 9),
  new RecordNotFoundError('shipments', 's-1'),
  new UnsupportedSchemaVersionError('shipments', 's-1', -7, 1),
  new StorageUnavailableError('database unavailable (shipments): connect ECONNREFUSED 10.0.0.5:5432'),
  new LockBusyError('create-shipments'),
  new LockTimeoutError('tms:lock:job:sync', 2000),
  new LockLostError('tms:lock:job:sync', 'expired'),
  new ObjectLockedError('tms:lock:shipment:s-1:claim', 'agent-7', new Date()),
  new NotLockHolderError('tms:lock:shipment:s-1:claim', 'agent-7'),
  new HeldLimitError('tms:lock:shipment:s-1:claim', 'agent-7', 3),
  new UnknownScheduleError('no-such-job'),
  new PasswordHashingBusyError(1),
  ...Object.keys(WAREHOUSE_ERRORS).map((code) => new WarehouseError(code as keyof typeof WAREHOUSE_ERRORS, `a ${code}`)),
  ...Object.keys(API_ERRORS).map((code) => new ApiError(code as keyof typeof API_ERRORS, `a ${code}`)),
]

t.test('every coded error is documented, answered with its own code and status', async (t) => {
  for (const error of EVERY_ERROR) {
    t.ok(isCodedError(error), `${error.name} carries a code`)
    t.equal(ERROR_CODES[error.code], error.statusCode, `${error.code}: documented with status ${error.statusCode}`)
    const answer = answerFor(error)
    t.match(answer, { statusCode: error.statusCode, code: error.code }, `${error.code} answered as itself`)
  }
})

t.test('messages naming internals are replaced by the code’s public message', async (t) => {
  for (const error of EVERY_ERROR.filter((e) => !e.expose)) {
    const answer = answerFor(error)
    t.equal(answer.message, PUBLIC_MESSAGES[error.code], `${error.code}: "${answer.message}"`)
    t.notMatch(answer.message, /users|shipments|tms:lock|agent-7|10\.0\.0\.5|version -7/, 'names nothing inside')
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
  t.match(
    answerFor(new StorageError('migration of shipments failed')),
    { statusCode: 500, code: 'INTERNAL', log: true },
    'a storage error of no documented kind is an internal one',
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
