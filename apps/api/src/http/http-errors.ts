/** An error that carries the status code to answer with; its message is shown to the caller. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

export const httpError = (statusCode: number, message: string, headers?: Record<string, string>) =>
  new HttpError(statusCode, message, headers)
