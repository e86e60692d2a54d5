import { type Agent, request as httpRequest } from 'node:http'

export interface HttpResult {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  json<T = unknown>(): T
}

/** A plain HTTP client on node:http, so tests see real connection behaviour (keep-alive, resets). */
export function http(
  base: string,
  method: string,
  path: string,
  options: { cookie?: string; body?: unknown; agent?: Agent; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const url = new URL(path, base)
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        agent: options.agent,
        headers: {
          ...(options.cookie ? { cookie: options.cookie } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T }),
        )
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

export function cookieFrom(result: HttpResult): string {
  const header = result.headers['set-cookie']
  const all = Array.isArray(header) ? header : header ? [header] : []
  const found = all.find((c) => c.startsWith('tms.sid='))
  if (!found) throw new Error(`no session cookie (status ${result.status}: ${result.body})`)
  return found.split(';')[0]!
}
