import { createConnection, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP relay in front of Redis or PostgreSQL that counts what its clients ask for, read off
 * the wire: Redis commands by name (RESP arrays), PostgreSQL statements (one Sync ends each
 * extended-protocol statement, one Query each simple one) and parses (a prepared statement is
 * parsed once per connection, an unnamed one every time). Nothing is changed on the way.
 */
export class WireCounter {
  /** Commands or statements, by name: the Redis command, or 'statement' / 'parse' for PostgreSQL. */
  readonly counts = new Map<string, number>()
  readonly #server: Server
  readonly #sockets = new Set<Socket>()

  private constructor(
    readonly protocol: 'redis' | 'postgres',
    private readonly target: { host: string; port: number },
  ) {
    this.#server = createServer((client) => this.#relay(client))
  }

  static async start(protocol: 'redis' | 'postgres', target: { host: string; port: number }): Promise<WireCounter> {
    const counter = new WireCounter(protocol, target)
    await new Promise<void>((resolve) => counter.#server.listen(0, '127.0.0.1', resolve))
    return counter
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port
  }

  /** All counted so far, as a plain object to take differences of. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts)
  }

  total(): number {
    if (this.protocol === 'postgres') return this.counts.get('statement') ?? 0
    let sum = 0
    for (const n of this.counts.values()) sum += n
    return sum
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #count(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1)
  }

  #relay(client: Socket): void {
    const server = createConnection(this.target)
    for (const socket of [client, server]) {
      this.#sockets.add(socket)
      socket.setNoDelay(true)
      socket.on('close', () => this.#sockets.delete(socket))
      socket.on('error', () => {
        client.destroy()
        server.destroy()
      })
    }
    const parse =
      this.protocol === 'redis' ? redisCommands((name) => this.#count(name)) : postgresMessages((name) => this.#count(name))
    client.on('data', (chunk: Buffer) => {
      parse(chunk)
      server.write(chunk)
    })
    server.pipe(client)
    client.on('end', () => server.end())
  }
}

/** A streaming reader of the RESP requests a client sends: `*<n>\r\n` then n bulk strings. */
export function redisCommands(onCommand: (name: string) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0)
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    let at = 0
    for (;;) {
      const parsed = readArray(pending, at)
      if (!parsed) break
      onCommand(parsed.name)
      at = parsed.end
    }
    pending = pending.subarray(at)
  }
}

function readLine(buffer: Buffer, at: number): { line: string; end: number } | null {
  const cr = buffer.indexOf('\r\n', at)
  return cr < 0 ? null : { line: buffer.toString('latin1', at, cr), end: cr + 2 }
}

function readArray(buffer: Buffer, at: number): { name: string; end: number } | null {
  const header = readLine(buffer, at)
  if (!header) return null
  if (!header.line.startsWith('*')) {
    // An inline command (redis-cli typed by hand): the first word.
    return { name: header.line.split(' ')[0]!.toUpperCase(), end: header.end }
  }
  let end = header.end
  let name = ''
  for (let i = 0, n = Number(header.line.slice(1)); i < n; i++) {
    const length = readLine(buffer, end)
    if (!length) return null
    const size = Number(length.line.slice(1))
    if (buffer.length < length.end + size + 2) return null
    if (i === 0) name = buffer.toString('latin1', length.end, length.end + size).toUpperCase()
    end = length.end + size + 2
  }
  return { name, end }
}

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104

/**
 * A streaming reader of the PostgreSQL frontend protocol: start-up messages (length, code) until
 * the real start-up, then typed messages (type byte, length). Counts 'statement' per Sync or Query
 * and 'parse' per Parse.
 */
export function postgresMessages(onMessage: (name: 'statement' | 'parse') => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0)
  let starting = true
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    let at = 0
    for (;;) {
      if (starting) {
        if (pending.length < at + 8) break
        const length = pending.readInt32BE(at)
        if (pending.length < at + length) break
        const code = pending.readInt32BE(at + 4)
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) starting = false
        at += length
        continue
      }
      if (pending.length < at + 5) break
      const type = String.fromCharCode(pending[at]!)
      const length = pending.readInt32BE(at + 1)
      if (pending.length < at + 1 + length) break
      if (type === 'S' || type === 'Q') onMessage('statement')
      else if (type === 'P') onMessage('parse')
      at += 1 + length
    }
    pending = pending.subarray(at)
  }
}
