import { request } from 'node:http'

export interface Answer {
  status: number
  bytes: number
  ms: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/**
 * One request from `from` (a loopback address of its own: the API counts logins per address),
 * on a fresh connection, timed to the last byte.
 */
export function send(
  base: string,
  from: string,
  method: string,
  path: string,
  options: { body?: string; cookie?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const started = performance.now()
  const { body, cookie } = options
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, base),
      {
        method,
        localAddress: from,
        agent: false,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
          ...(cookie ? { cookie } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const text = Buffer.concat(chunks)
          resolve({
            status: res.statusCode ?? 0,
            bytes: text.length,
            ms: performance.now() - started,
            headers: res.headers,
            body: text.toString(),
          })
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** `200 ×5, 429 ×95`. */
export function countStatuses(answers: ReadonlyArray<{ status: number }>): string {
  const by = new Map<number, number>()
  for (const a of answers) by.set(a.status, (by.get(a.status) ?? 0) + 1)
  return [...by]
    .sort(([a], [b]) => a - b)
    .map(([status, n]) => `${status} ×${n}`)
    .join(', ')
}

/** The session cookie of a login's answer. */
export function sessionCookie(answer: Answer): string {
  const found = ([] as string[]).concat(answer.headers['set-cookie'] ?? []).find((c) => c.startsWith('tms.sid='))
  if (!found) throw new Error(`no session: ${answer.status} ${answer.body.slice(0, 200)}`)
  return found.split(';')[0]!
}

export const ms = (x: number) => `${x.toFixed(1)} ms`
