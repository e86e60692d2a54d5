/**
 * What every benchmark here does to get comparable numbers on a 2-vCPU VM with CPU steal
 * (see docs/benchmarks.md): pin work to cores, and measure CPU time from /proc.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import type { Redis } from 'ioredis'

export const canPin = existsSync('/usr/bin/taskset') && cpus().length >= 2

/** Moves this process (all its threads) to one core. */
export function pinSelf(core: number): void {
  if (canPin) execFileSync('taskset', ['-apc', String(core), String(process.pid)], { stdio: 'ignore' })
}

/** A command prefix that starts a process on one core. */
export const onCore = (core: number): string[] => (canPin ? ['taskset', '-c', String(core)] : [])

/** Moves a local Redis to `core` while a benchmark runs; returns how to put it back. */
export async function pinLocalRedis(redis: Redis, url: string, core: number): Promise<() => void> {
  if (!canPin || !['127.0.0.1', 'localhost', '::1'].includes(new URL(url).hostname)) return () => {}
  const pid = /process_id:(\d+)/.exec(await redis.info('server'))?.[1]
  if (!pid) return () => {}
  const before = /affinity list: (.+)$/m.exec(execFileSync('taskset', ['-pc', pid], { encoding: 'utf8' }))?.[1]?.trim()
  try {
    execFileSync('taskset', ['-apc', String(core), pid], { stdio: 'ignore' })
  } catch {
    return () => {} // not ours to move: measure without it
  }
  return () => {
    if (before) execFileSync('taskset', ['-apc', before, pid], { stdio: 'ignore' })
  }
}

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
