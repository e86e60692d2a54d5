import { UnknownScheduleError } from '@tms/jobs'
import { LockBusyError, LockLostError, LockTimeoutError } from '@tms/locks'
import { isRedisUnavailable } from '@tms/redis'
import {
  DuplicateKeyError,
  FencingTokenRejectedError,
  StorageError,
  StorageUnavailableError,
  VersionConflictError,
} from '@tms/storage'
import { WarehouseError } from '@tms/warehouse'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { HttpError } from '../http/http-errors.js'

export interface FieldProblem {
  field: string
  message: string
}

interface ErrorBody {
  statusCode: number
  error: string
  message: string
  details?: FieldProblem[]
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

/** Every error answer is bounded, whatever the request held: a few KB at most. */
export const ERROR_LIMITS = { messageChars: 500, details: 10, detailChars: 200 } as const

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

const body = (statusCode: number, message: string, details?: FieldProblem[]): ErrorBody => ({
  statusCode,
  error: REASONS[statusCode] ?? 'Error',
  message: clip(message, ERROR_LIMITS.messageChars),
  ...(details
    ? {
        details: details.slice(0, ERROR_LIMITS.details).map((d) => ({
          field: clip(d.field, ERROR_LIMITS.detailChars),
          message: clip(d.message, ERROR_LIMITS.detailChars),
        })),
      }
    : {}),
})

interface AjvError {
  instancePath: string
  keyword: string
  message?: string
  params: { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] }
}

/** `body.address.postalCode`-style names, so a client knows which field to fix. */
export function fieldProblems(context: string, errors: AjvError[]): FieldProblem[] {
  return errors.map((e) => {
    const path = [context, ...e.instancePath.split('/').filter(Boolean)]
    if (e.keyword === 'required' && e.params.missingProperty) {
      return { field: [...path, e.params.missingProperty].join('.'), message: 'is required' }
    }
    if (e.keyword === 'additionalProperties' && e.params.additionalProperty) {
      return { field: [...path, e.params.additionalProperty].join('.'), message: 'is not an allowed field' }
    }
    if (e.keyword === 'enum' && e.params.allowedValues) {
      return { field: path.join('.'), message: `must be one of ${e.params.allowedValues.join(', ')}` }
    }
    return { field: path.join('.'), message: e.message ?? 'is invalid' }
  })
}

const INTERNAL = 'an unexpected error occurred; it has been logged'

function classify(error: FastifyError): { statusCode: number; message: string; details?: FieldProblem[]; log: boolean } {
  if (error.validation) {
    const details = fieldProblems(error.validationContext ?? 'request', error.validation as unknown as AjvError[])
    return { statusCode: 400, message: details.map((d) => `${d.field} ${d.message}`).join('; '), details, log: false }
  }
  if (error instanceof HttpError) return { statusCode: error.statusCode, message: error.message, log: false }
  if (error instanceof WarehouseError) {
    const statusCode = { 'not-found': 404, conflict: 409, forbidden: 403 }[error.kind]
    return { statusCode, message: error.message, log: false }
  }
  if (error instanceof UnknownScheduleError) return { statusCode: 404, message: error.message, log: false }
  if (error instanceof LockBusyError) return { statusCode: 409, message: error.message, log: false }
  if (error instanceof LockTimeoutError) return { statusCode: 503, message: 'the resource is busy; try again shortly', log: true }
  if (error instanceof LockLostError)
    return { statusCode: 503, message: 'the operation lost its lock and was stopped; try again', log: true }
  if (error instanceof StorageUnavailableError) {
    return { statusCode: 503, message: 'the database is unavailable; try again shortly', log: true }
  }
  if (isRedisUnavailable(error)) {
    return { statusCode: 503, message: 'the session and cache store is unavailable; try again shortly', log: true }
  }
  // A fenced write from a claim that another agent has since taken over.
  if (error instanceof FencingTokenRejectedError)
    return { statusCode: 409, message: 'your claim was taken over meanwhile; nothing was changed', log: false }
  if (error instanceof DuplicateKeyError) {
    return { statusCode: 409, message: `a record with this ${error.field} already exists`, log: false }
  }
  if (error instanceof VersionConflictError) {
    return { statusCode: 409, message: 'it was changed by someone else meanwhile; reload it and try again', log: false }
  }
  // Any other storage error (a record of a shape this version cannot read, a failed migration)
  // is ours, not the caller's: a 500 that names nothing inside, and the details in our log.
  if (error instanceof StorageError) return { statusCode: 500, message: INTERNAL, log: true }
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) return { statusCode: status, message: error.message, log: false }
  return { statusCode: 500, message: INTERNAL, log: true }
}

const FRAMEWORK_MESSAGES: Record<string, string> = {
  FST_ERR_BAD_URL: 'the URL is not valid',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is too long',
}

/**
 * Fastify's `frameworkErrors`: errors raised before routing (a malformed URL, a path parameter
 * over the router's limit). Fastify's own answer echoes the whole path (60 KB in, 60 KB out);
 * ours is the one error shape, bounded.
 */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const statusCode = error.statusCode === 414 ? 414 : 400
  void reply.code(statusCode).send(body(statusCode, FRAMEWORK_MESSAGES[error.code] ?? 'the request is not valid'))
}

/** One JSON error shape for everything, including unknown routes; no stack traces leave the server. */
export const errorHandling = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const { statusCode, message, details, log } = classify(error)
      if (log) request.log.error({ err: error }, 'request failed')
      if (error instanceof HttpError) reply.headers(error.headers)
      return reply.code(statusCode).send(body(statusCode, message, details))
    })
    app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?')[0]!
      return reply.code(404).send(body(404, `no route for ${request.method} ${clip(path, 100)}`))
    })
  },
  { name: 'tms-error-handling', fastify: '5.x' },
)
