import { spawn, spawnSync } from 'node:child_process'

/**
 * podman as this machine runs it: runc (crun refuses its cgroup layout), and limits below the
 * host's own (podman's defaults ask for more and are refused).
 */
export const PODMAN_GLOBAL = ['--runtime', 'runc'] as const
export const CONTAINER_LIMITS = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'] as const

export interface CommandResult {
  code: number | null
  output: string
}

/**
 * Runs podman and waits; `onLine` sees its output line by line (progress), `output` keeps the
 * end. Past `timeoutMs` it is killed (a pull from a registry that does not answer).
 */
export function podman(
  args: string[],
  options: { onLine?: (line: string) => void; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', [...PODMAN_GLOBAL, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined
    let output = ''
    let partial = ''
    const take = (chunk: Buffer) => {
      const text = chunk.toString()
      output = (output + text).slice(-20_000)
      const lines = (partial + text).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) options.onLine?.(line)
    }
    child.stdout.on('data', take)
    child.stderr.on('data', take)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

/** podman's answer when it is quick and its output is the point (inspect, image exists). */
export function podmanSync(args: string[]): CommandResult {
  const result = spawnSync('podman', [...PODMAN_GLOBAL, ...args], { encoding: 'utf8', timeout: 120_000 })
  return { code: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` }
}

export const imageExists = (image: string): boolean => podmanSync(['image', 'exists', image]).code === 0

/** An image's size in bytes, as podman stores it. */
export function imageSize(image: string): number {
  const { code, output } = podmanSync(['image', 'inspect', '--format', '{{.Size}}', image])
  if (code !== 0) throw new Error(`podman image inspect ${image}: ${output}`)
  return Number(output.trim())
}
