/**
 * Errors with a stable `code` and the HTTP status it means, both defined where the errors are
 * (as fastify's lib/errors.js does): each lib keeps one table of its codes, its errors take
 * their status from it, and the API answers with a lookup in the union of the tables, not a
 * chain of instanceof checks whose order matters. Clients and tests rely on the code.
 */

/** What one code means. */
export interface ErrorDefinition {
  /** The HTTP status an answer of this code carries. */
  readonly status: number
  /**
   * What callers read instead of the error's own message, for errors whose message names
   * internals (tables, keys, holders): the message is logged, this is answered. Absent: the
   * message is for the caller.
   */
  readonly publicMessage?: string
}

/** A family's codes, each defined once. */
export type ErrorTable<Code extends string = string> = Readonly<Record<Code, ErrorDefinition>>

/** A family's table, its codes checked to be upper snake case at load. */
export function defineErrors<const T extends Record<string, ErrorDefinition>>(table: T): T {
  for (const code of Object.keys(table)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(code)) throw new Error(`error code ${code} is not upper snake case`)
  }
  return table
}

export interface CodedErrorOptions {
  cause?: unknown
  /** What the caller may choose between, or fix, field by field (shown with the message). */
  details?: ReadonlyArray<{ field: string; message: string }>
  /** Response headers that belong to the refusal, e.g. `retry-after`. */
  headers?: Readonly<Record<string, string>>
}

/** An error the API answers by its code. */
export abstract class CodedError extends Error {
  /** Stable, upper snake case; part of the API's contract (documented with it). */
  abstract readonly code: string
  abstract readonly statusCode: number
  /** Whether the message may be shown to callers (else `publicMessage` is). */
  abstract readonly expose: boolean
  abstract readonly publicMessage: string | undefined
  abstract readonly details: ReadonlyArray<{ field: string; message: string }> | undefined
  abstract readonly headers: Readonly<Record<string, string>> | undefined
}

/**
 * A family of coded errors whose codes are one table, kept beside the family (the storage's
 * refusals, the warehouse's rules, the API's own): a code exists only if the table has it, and
 * its status and public message are read from there.
 */
export abstract class TabledError<Code extends string> extends CodedError {
  readonly statusCode: number
  readonly expose: boolean
  readonly publicMessage: string | undefined
  readonly details: ReadonlyArray<{ field: string; message: string }> | undefined
  readonly headers: Readonly<Record<string, string>> | undefined

  constructor(
    readonly code: Code,
    table: ErrorTable<Code>,
    message: string,
    options: CodedErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    const definition = table[code]
    this.statusCode = definition.status
    this.publicMessage = definition.publicMessage
    this.expose = definition.publicMessage === undefined
    this.details = options.details
    this.headers = options.headers
  }
}

export function isCodedError(error: unknown): error is CodedError {
  return error instanceof CodedError
}
