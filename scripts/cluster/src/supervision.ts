/**
 * The local cluster leaves no process behind, however its supervisor (`npm start`, a rehearsal)
 * ends. Every process it launches gets Linux's parent-death signal (SIGKILL when the supervisor
 * dies, `kill -9` included), and the supervisor records what it runs in a state file, so that the
 * next start finds and stops a stale cluster (one from a machine without setpriv) and refuses
 * ports that something else holds, naming it.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { basename } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** util-linux's setpriv sets PR_SET_PDEATHSIG, then execs the command: the signal survives exec. */
const SETPRIV = /--pdeathsig/.test(spawnSync('setpriv', ['--help'], { encoding: 'utf8' }).stdout ?? '')

/**
 * The command, run so that it is killed when the process that spawned it dies. SIGKILL, not
 * SIGTERM: the kernel sends the signal each time the child is handed to another thread of the
 * dying parent (Node runs several), and an instance takes a second SIGTERM as "exit at once"
 * anyway; with the supervisor gone there is no balancer in front of it and nobody reading its
 * output. A job cut short runs again on another worker, as after any crash (BullMQ's stalled-job
 * check). Where setpriv is missing (not Linux), unchanged: the next start stops what is left.
 */
export function dieWithSupervisor(command: string, args: string[]): [string, string[]] {
  return SETPRIV ? ['setpriv', ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args]
}

/** A process of the cluster, and a piece of its command line that tells it from a reused pid. */
export interface RecordedProcess {
  pid: number
  name: string
  match: string
}

/** `<dir>/state.json`: who supervises the cluster, what it runs, and where it answers once up. */
export interface ClusterState {
  supervisor: RecordedProcess
  processes: RecordedProcess[]
  /** Set once the cluster is up. */
  url?: string
  control?: string
}

export function readClusterState(file: string): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ClusterState
  } catch {
    return undefined
  }
}

export function writeClusterState(file: string, state: ClusterState): void {
  // Whole or not at all: a supervisor killed mid-write leaves the previous state readable.
  writeFileSync(`${file}.tmp`, JSON.stringify(state))
  renameSync(`${file}.tmp`, file)
}

function commandLine(pid: number): string | undefined {
  if (existsSync('/proc/self/cmdline')) {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
    } catch {
      return undefined
    }
  }
  const ps = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' })
  return ps.status === 0 ? ps.stdout.trim() : undefined
}

/** Still running, and still the process recorded (not another one that got its pid since). */
export function isRunning(process: RecordedProcess): boolean {
  return commandLine(process.pid)?.includes(process.match) ?? false
}

export class ClusterRunningError extends Error {}
export class PortTakenError extends Error {}

/**
 * Before a start: a cluster whose supervisor still runs is refused (ClusterRunningError, naming
 * it); the processes of one whose supervisor is gone are stopped (SIGTERM, SIGKILL past
 * `graceMs`) and waited for. Returns how many were left over.
 */
export async function stopStaleCluster(file: string, say: (line: string) => void, graceMs = 20_000): Promise<number> {
  const state = readClusterState(file)
  if (!state) return 0
  if (isRunning(state.supervisor)) {
    throw new ClusterRunningError(
      `a local cluster of this checkout is already running (supervisor pid ${state.supervisor.pid}` +
        `${state.url ? `, ${state.url}` : ', still starting'}). Stop it first (Ctrl-C in its terminal, or kill ${state.supervisor.pid}).`,
    )
  }
  const left = state.processes.filter(isRunning)
  if (left.length === 0) return 0
  say(
    `stopping ${left.length} process(es) left by an earlier cluster whose supervisor (pid ${state.supervisor.pid}) is gone: ${left.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`,
  )
  const signal = (p: RecordedProcess, name: NodeJS.Signals) => {
    try {
      process.kill(p.pid, name)
    } catch {
      // already gone
    }
  }
  for (const p of left) signal(p, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (left.some(isRunning) && Date.now() < deadline) await sleep(100)
  const stubborn = left.filter(isRunning)
  for (const p of stubborn) signal(p, 'SIGKILL')
  if (stubborn.length > 0) say(`killed ${stubborn.map((p) => p.name).join(', ')} after ${graceMs / 1000} s`)
  while (stubborn.some(isRunning)) await sleep(50)
  return left.length
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** Who listens on a TCP port, as `ss` names it ("haproxy (pid 1234)"), when it can tell. */
export function listenerOf(port: number): string | undefined {
  const ss = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' })
  const found = /users:\(\("([^"]+)",pid=(\d+)/.exec(ss.stdout ?? '')
  return found ? `${programOf(found[2]!) ?? found[1]} (pid ${found[2]})` : undefined
}

/**
 * The program a process runs, as its command line names it: ss reports the thread's name, and
 * Node 24 names its main thread MainThread, which tells a person nothing.
 */
function programOf(pid: string): string | undefined {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]
    return argv0 ? basename(argv0) : undefined
  } catch {
    return undefined
  }
}

/** Throws PortTakenError naming the first port something else listens on, and who. */
export async function requireFreePorts(ports: ReadonlyArray<{ port: number; what: string; option: string }>): Promise<void> {
  for (const { port, what, option } of ports) {
    if (await canListen(port)) continue
    const holder = listenerOf(port)
    throw new PortTakenError(
      `port ${port} (${what}) is in use by ${holder ?? 'another process'}, not by a cluster this checkout started. ` +
        `Stop it, or choose another port (${option}).`,
    )
  }
}
