/**
 * An error with a stable `code` and the HTTP status it means, both defined where the error is
 * (as fastify's lib/errors.js does): the API answers with a lookup, not a chain of instanceof
 * checks whose order matters, and clients and tests can rely on the code.
 */
export abstract class CodedError extends Error {
  /** Stable, upper snake case; part of the API's contract (documented with it). */
  abstract readonly code: string
  abstract readonly statusCode: number
  /**
   * Whether the message may be shown to callers. False for messages that name internals
   * (tables, fields, schema versions); the API then answers a message of its own for the code.
   */
  readonly expose: boolean = true
  /** What the caller may choose between, or fix, field by field (shown with the message). */
  readonly details?: ReadonlyArray<{ field: string; message: string }>
  /** Response headers that belong to the refusal, e.g. `retry-after`. */
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * A family of coded errors whose codes and statuses are one table, kept beside the family
 * (the warehouse's rules, the API's refusals): a code is valid only if the table has it.
 */
export abstract class TabledError<Code extends string> extends CodedError {
  readonly statusCode: number
  override readonly details: ReadonlyArray<{ field: string; message: string }> | undefined
  constructor(
    readonly code: Code,
    statuses: Readonly<Record<Code, number>>,
    message: string,
    details?: ReadonlyArray<{ field: string; message: string }>,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.statusCode = statuses[code]
    this.details = details
  }
}

export function isCodedError(error: unknown): error is CodedError {
  return error instanceof CodedError
}
