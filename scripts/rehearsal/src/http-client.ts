import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

export interface Reply {
  /** 0 when no HTTP answer came (connection refused or reset, timeout). */
  status: number
  headers: IncomingHttpHeaders
  body: unknown
  bytesIn: number
  bytesOut: number
  /** Why there is no HTTP answer, as vegeta's error set names it. */
  error?: string
}

export interface Call {
  method: string
  path: string
  body?: unknown
  cookie?: string | undefined
}

/**
 * A plain HTTP client with keep-alive connections, as a browser or a warehouse scanner app
 * holds them: no retries, no redirects, a timeout per request. node:http rather than fetch, so
 * that 300 requests a second cost the load generator little of a 2-core machine.
 */
export class HttpClient {
  readonly #base: URL
  readonly #agent: Agent
  readonly #timeoutMs: number

  constructor(baseUrl: string, options: { timeoutMs?: number } = {}) {
    this.#base = new URL(baseUrl)
    const Kind = this.#base.protocol === 'https:' ? HttpsAgent : Agent
    this.#agent = new Kind({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, scheduling: 'lifo' })
    this.#timeoutMs = options.timeoutMs ?? 30_000
  }

  get baseUrl(): string {
    return this.#base.origin
  }

  send(call: Call): Promise<Reply> {
    const payload = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body))
    const headers: Record<string, string> = { accept: 'application/json' }
    if (payload) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = String(payload.length)
    }
    if (call.cookie) headers.cookie = call.cookie
    const send = this.#base.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve) => {
      let settled = false
      const done = (reply: Reply) => {
        if (settled) return
        settled = true
        resolve(reply)
      }
      const failed = (error: Error & { code?: string }) =>
        done({ status: 0, headers: {}, body: undefined, bytesIn: 0, bytesOut: 0, error: error.code ?? error.message })
      const request = send(
        {
          protocol: this.#base.protocol,
          hostname: this.#base.hostname,
          port: this.#base.port,
          method: call.method,
          path: call.path,
          headers,
          agent: this.#agent,
          timeout: this.#timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = []
          response.on('data', (chunk: Buffer) => chunks.push(chunk))
          response.on('error', failed)
          response.on('end', () => {
            const raw = Buffer.concat(chunks)
            let body: unknown
            try {
              body = raw.length > 0 ? JSON.parse(raw.toString()) : undefined
            } catch {
              body = raw.toString()
            }
            done({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body,
              bytesIn: raw.length,
              bytesOut: payload?.length ?? 0,
            })
          })
        },
      )
      request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })))
      request.on('error', failed)
      request.end(payload)
    })
  }

  close(): void {
    this.#agent.destroy()
  }
}

/** The session cookie(s) a response sets, as a Cookie header; `previous` when it sets none. */
export function cookieFrom(reply: Reply, previous?: string): string | undefined {
  const set = reply.headers['set-cookie']
  if (!set || set.length === 0) return previous
  const split = (pair: string): [string, string] => {
    const at = pair.indexOf('=')
    return [pair.slice(0, at).trim(), pair.slice(at + 1)]
  }
  const jar = new Map((previous ?? '').split('; ').filter(Boolean).map(split))
  for (const line of set) {
    // One cookie string goes with every request: a cookie for a narrower path (the device
    // cookie, /auth) is left out, as a browser would leave it off all the other requests.
    const path = /;\s*path=([^;]*)/i.exec(line)?.[1]?.trim()
    if (path && path !== '/') continue
    jar.set(...split(line.split(';')[0]!))
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
}
