import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy a test controls, to cut or silence the connection between our process and
 * Redis or PostgreSQL without touching the shared servers themselves.
 *  - `refuse()`: close every connection and refuse new ones (the server "went away");
 *  - `blackhole()`: keep connections open but drop every byte (the network went silent);
 *  - `refuseWhen(trigger)`: refuse from the moment our process sends a matching command;
 *  - `restore()`: pass traffic again.
 */
export class TcpProxy {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #mode: 'pass' | 'refuse' | 'blackhole' = 'pass'
  #trigger: ((chunk: Buffer) => boolean) | undefined
  #triggered: (() => void) | undefined
  port = 0

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.#server = createServer((client) => this.#accept(client))
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.port = (this.#server.address() as { port: number }).port
    return this
  }

  #accept(client: Socket): void {
    if (this.#mode === 'refuse') {
      client.destroy()
      return
    }
    const upstream = connect(this.targetPort, this.targetHost)
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
      socket.on('error', () => socket.destroy())
    }
    client.on('data', (chunk: Buffer) => {
      if (this.#mode === 'pass' && this.#trigger?.(chunk)) {
        this.#trigger = undefined
        this.refuse()
        this.#triggered?.()
        return
      }
      if (this.#mode === 'pass') upstream.write(chunk)
    })
    upstream.on('data', (chunk) => this.#mode === 'pass' && client.write(chunk))
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  }

  /**
   * Passes traffic until a chunk from our process matches `trigger` (say, the first EVALSHA),
   * then refuses, that chunk included: the server went away at exactly that command. Resolves
   * when it happened.
   */
  refuseWhen(trigger: (chunk: Buffer) => boolean): Promise<void> {
    this.#trigger = trigger
    return new Promise((resolve) => {
      this.#triggered = resolve
    })
  }

  refuse(): void {
    this.#mode = 'refuse'
    for (const socket of this.#sockets) socket.destroy()
  }

  blackhole(): void {
    this.#mode = 'blackhole'
  }

  restore(): void {
    this.#mode = 'pass'
  }

  get connections(): number {
    return this.#sockets.size / 2
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

interface Teardown {
  teardown(fn: () => unknown): void
}

export async function startTcpProxy(t: Teardown, targetHost: string, targetPort: number): Promise<TcpProxy> {
  const proxy = await new TcpProxy(targetHost, targetPort).start()
  t.teardown(() => proxy.close())
  return proxy
}
