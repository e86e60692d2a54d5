import { createServer } from 'node:net'

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * Hands out ports that are free now, counting up from `base`. Below 32768 on purpose: ports
 * in Linux's ephemeral range can be taken at any moment as the local end of an outgoing
 * connection, and then an instance fails to listen (seen: EADDRINUSE on a port nobody served).
 */
export class PortAllocator {
  #next: number

  constructor(base: number) {
    this.#next = base
  }

  async take(): Promise<number> {
    for (let tries = 0; tries < 1000; tries++) {
      const port = this.#next++
      if (await isFree(port)) return port
    }
    throw new Error('no free port found')
  }
}
