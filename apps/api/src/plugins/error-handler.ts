import { isCodedError } from '@tms/errors'
import { isRedisUnavailable } from '@tms/redis'
import { TEXT_FORMAT_PROBLEMS } from '@tms/warehouse'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { API_ERRORS, type ApiErrorCode } from '../http/api-errors.js'
import { ERROR_DEFINITIONS } from '../http/error-codes.js'

export interface FieldProblem {
  field: string
  message: string
}

interface ErrorBody {
  statusCode: number
  /** Stable: one of ERROR_CODES. */
  code: string
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

const body = (statusCode: number, code: string, message: string, details?: FieldProblem[]): ErrorBody => ({
  statusCode,
  code,
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
  params: { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[]; format?: string }
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
    if (e.keyword === 'format' && e.params.format && TEXT_FORMAT_PROBLEMS[e.params.format]) {
      return { field: path.join('.'), message: TEXT_FORMAT_PROBLEMS[e.params.format]! }
    }
    if (e.keyword === 'enum' && e.params.allowedValues) {
      return { field: path.join('.'), message: `must be one of ${e.params.allowedValues.join(', ')}` }
    }
    return { field: path.join('.'), message: e.message ?? 'is invalid' }
  })
}

/** Fastify's own refusals of a request, by Fastify's code: ours name them in words of the API. */
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
}

export interface Answer {
  statusCode: number
  code: string
  message: string
  details?: FieldProblem[]
  /** Ours, not the caller's: logged with the whole error. */
  log: boolean
}

const internal = (code: 'INTERNAL' | 'STORE_UNAVAILABLE' = 'INTERNAL'): Answer => ({
  statusCode: API_ERRORS[code].status,
  code,
  message: API_ERRORS[code].publicMessage,
  log: true,
})

/**
 * What to answer for an error: a lookup by its code. Coded errors (ours and the libs') carry
 * code and status; their message is shown when they say so (`expose`), else the code's public
 * message. Fastify's validation and parsing errors, and Redis being away, are the only ones
 * recognised otherwise.
 */
export function answerFor(error: FastifyError | Error): Answer {
  const fastify = error as FastifyError
  if (fastify.validation) {
    const details = fieldProblems(fastify.validationContext ?? 'request', fastify.validation as unknown as AjvError[])
    const message = details.map((d) => `${d.field} ${d.message}`).join('; ')
    return { statusCode: 400, code: 'VALIDATION_FAILED', message, details, log: false }
  }
  if (isCodedError(error)) {
    // A code no table of the API's families defines is not part of its contract: ours, logged.
    if (ERROR_DEFINITIONS[error.code]?.status !== error.statusCode) return internal()
    const message = error.expose ? error.message : (error.publicMessage ?? API_ERRORS.INTERNAL.publicMessage)
    const details = error.expose && error.details ? { details: [...error.details] } : {}
    return { statusCode: error.statusCode, code: error.code, message, ...details, log: error.statusCode >= 500 }
  }
  if (isRedisUnavailable(error)) return internal('STORE_UNAVAILABLE')
  const status = fastify.statusCode ?? 500
  if (status >= 400 && status < 500) {
    const code = FASTIFY_CODES[fastify.code] ?? 'BAD_REQUEST'
    return { statusCode: status, code, message: error.message, log: false }
  }
  return internal()
}

const FRAMEWORK_ERRORS: Record<string, { code: ApiErrorCode; message: string }> = {
  FST_ERR_BAD_URL: { code: 'BAD_URL', message: 'the URL is not valid' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'PARAM_TOO_LONG', message: 'a path parameter is too long' },
}

/**
 * Fastify's `frameworkErrors`: errors raised before routing (a malformed URL, a path parameter
 * over the router's limit). Fastify's own answer echoes the whole path (60 KB in, 60 KB out);
 * ours is the one error shape, bounded.
 */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const known = FRAMEWORK_ERRORS[error.code] ?? { code: 'BAD_URL', message: 'the request is not valid' }
  const statusCode = API_ERRORS[known.code].status
  void reply.code(statusCode).send(body(statusCode, known.code, known.message))
}

/** One JSON error shape for everything, including unknown routes; no stack traces leave the server. */
export const errorHandling = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const { statusCode, code, message, details, log } = answerFor(error)
      if (log) request.log.error({ err: error }, 'request failed')
      if (isCodedError(error) && error.headers) reply.headers(error.headers)
      return reply.code(statusCode).send(body(statusCode, code, message, details))
    })
    app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?')[0]!
      return reply.code(404).send(body(404, 'ROUTE_NOT_FOUND', `no route for ${request.method} ${clip(path, 100)}`))
    })
  },
  { name: 'tms-error-handling', fastify: '5.x' },
)
