/**
 * True for errors that mean "Redis could not be reached or did not answer" (a 503 worth
 * retrying), as opposed to a wrong command. ioredis signals these by name and message only.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (error.name === 'MaxRetriesPerRequestError') return true
  return /Command timed out|Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|LOADING/.test(
    error.message,
  )
}
