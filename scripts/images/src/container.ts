import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { type Exit, isRunning } from '@tms/sandbox'
import { CONTAINER_LIMITS, PODMAN_GLOBAL, podman } from './podman.js'

/** A log line of the app in the container, as it wrote it on stdout. */
export type ContainerLogLine = Record<string, unknown> & { raw?: string }

/**
 * One container of one image, run as the platforms run it: on a read-only root filesystem with
 * a tmpfs on /tmp only, as the image's own user, with the host's network (the machine's Redis
 * and PostgreSQL). `podman run` stays attached, so the app's stdout is read here line by line
 * and the command's exit is the container's.
 */
export class AppContainer {
  readonly logs: ContainerLogLine[] = []
  readonly exited: Promise<Exit>
  readonly #run: ChildProcess

  constructor(
    readonly name: string,
    image: string,
    env: Record<string, string>,
  ) {
    const envArgs = Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`])
    this.#run = spawn(
      'podman',
      [
        ...PODMAN_GLOBAL,
        'run',
        '--rm',
        '--name',
        name,
        '--read-only',
        '--tmpfs',
        '/tmp',
        '--network',
        'host',
        ...CONTAINER_LIMITS,
        ...envArgs,
        image,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const read = (line: string) => {
      // podman's own complaints (no systemd to schedule health checks here) are not the app's.
      if (/^time="[^"]*" level=/.test(line)) return
      try {
        this.logs.push(JSON.parse(line) as ContainerLogLine)
      } catch {
        this.logs.push({ raw: line })
      }
    }
    createInterface({ input: this.#run.stdout! }).on('line', read)
    createInterface({ input: this.#run.stderr! }).on('line', read)
    this.exited = new Promise((resolve) => this.#run.on('close', (code, signal) => resolve({ code, signal })))
  }

  /**
   * Resolves once `url` answers 200, or fails at once, with its last lines, if the container
   * exits first (a missing module, a bad config) rather than after the whole bound.
   */
  async waitUntilReady(url: string, withinMs = 120_000): Promise<void> {
    const started = Date.now()
    while (Date.now() - started < withinMs) {
      if (!this.running) throw new Error(`${this.name} exited before it was ready:\n${this.tail()}`)
      const ok = await fetch(url).then(
        (r) => r.status === 200,
        () => false,
      )
      if (ok) return
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    throw new Error(`${this.name} not ready within ${withinMs} ms:\n${this.tail()}`)
  }

  tail(n = 10): string {
    return this.logs
      .slice(-n)
      .map((l) => l.raw ?? JSON.stringify(l))
      .join('\n')
  }

  get running(): boolean {
    return isRunning(this.#run)
  }

  /** `podman stop -t <seconds>`: SIGTERM to the app (PID 1), SIGKILL past the timeout, as ECS and Kubernetes do. */
  async stop(timeoutSeconds: number): Promise<Exit> {
    await podman(['stop', '--time', String(timeoutSeconds), this.name])
    return this.exited
  }

  /** A command inside the running container, as its user. */
  exec(command: string[]) {
    return podman(['exec', this.name, ...command])
  }

  /** Removes it whatever its state (a test's teardown). */
  async remove(): Promise<void> {
    if (this.running) await podman(['rm', '--force', '--time', '0', this.name])
    await this.exited
  }
}
