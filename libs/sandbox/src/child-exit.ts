import type { ChildProcess } from 'node:child_process'

/** How a child process ended: its exit code, or the signal that ended it. */
export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export const isRunning = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null

/**
 * Ends a child as a platform ends a task: SIGTERM, so it drains and exits on its own; SIGKILL if
 * it has not exited within `timeoutMs`. Resolves with its exit (at once if it has already ended).
 */
export async function stopChild(child: ChildProcess, exited: Promise<Exit>, timeoutMs: number): Promise<Exit> {
  if (!isRunning(child)) return exited
  child.kill('SIGTERM')
  const timer = setTimeout(() => {
    if (isRunning(child)) child.kill('SIGKILL')
  }, timeoutMs)
  try {
    return await exited
  } finally {
    clearTimeout(timer)
  }
}
