import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import type { Test } from 'tap'

/** The session id inside a signed cookie `tms.sid=<id>.<signature>`. */
export function sessionIdOf(cookie: string): string {
  const value = decodeURIComponent(cookie.replace(/^tms\.sid=/, ''))
  return value.slice(0, value.lastIndexOf('.'))
}

/**
 * Every command Redis executes that touches `key`, read with MONITOR (commands run inside our
 * Lua scripts included), so a test can prove what was and was not written. Over a plain socket:
 * ioredis's monitor mode took the first monitor lines, when they arrived in the same read as
 * MONITOR's +OK, for replies to commands it had not sent ("Command queue state error", thrown
 * as an uncaught exception; seen in CI with other tests' traffic on the same Redis).
 */
export async function watchKey(t: Test, url: string, key: string) {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port || 6379), hostname)
  t.teardown(() => {
    socket.destroy()
  })
  const seen: string[][] = []
  const waiters: Array<{ count: number; command: string; resolve: () => void }> = []
  let monitoring!: () => void
  let refused!: (error: Error) => void
  const started = new Promise<void>((resolve, reject) => {
    monitoring = resolve
    refused = reject
  })
  socket.on('error', refused)
  let buffer = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    buffer += chunk
    for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      if (line === '+OK') monitoring()
      else if (line.startsWith('-')) refused(new Error(`MONITOR refused: ${line}`))
      else onCommand(monitorArgs(line))
    }
  })
  socket.write('MONITOR\r\n')
  await started

  function onCommand(args: string[]): void {
    if (!args.includes(key)) return
    seen.push(args)
    for (const w of [...waiters]) {
      if (seen.filter((a) => a[0]?.toUpperCase() === w.command).length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }
  return {
    commands: () => seen.map((a) => a[0]!.toUpperCase()),
    /** Resolves once `command` has run on the key `count` times in total. */
    until: (command: string, count: number) =>
      new Promise<void>((resolve) => {
        if (seen.filter((a) => a[0]?.toUpperCase() === command).length >= count) resolve()
        else waiters.push({ count, command, resolve })
      }),
  }
}

/** `+1339518083.107412 [0 127.0.0.1:60866] "GETEX" "key" "EX" "28800"` -> its quoted arguments. */
function monitorArgs(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(["\\])/g, '$1'))
}

/**
 * A request whose headers go out now and whose body goes out later: the server loads the
 * session (onRequest) as soon as the headers arrive, then waits for the body. This holds a
 * request "in flight" with its session already read, without any test hook in the app.
 */
export function heldRequest(port: number, options: { method: string; path: string; cookie: string; body: unknown }) {
  const payload = JSON.stringify(options.body)
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    method: options.method,
    path: options.path,
    headers: { cookie: options.cookie, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
  })
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
  })
  req.flushHeaders()
  return {
    release: () => {
      req.end(payload)
      return response
    },
  }
}
