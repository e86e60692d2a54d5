import { readFileSync } from 'node:fs'
import { type Answer, send } from './http.js'

/** The process's resident memory now, in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Number(kb ?? 0) / 1024
}

export interface RushResult {
  /** What each login was answered first. */
  first: Answer[]
  /** Until every one was in, each retrying after its retry-after as the web app does. */
  allInMs: number
  idleRssMiB: number
  peakRssMiB: number
}

/**
 * `users.length` people logging in at once (a shift starts), each from an address of its own,
 * each retrying a 503 after its retry-after until it is in; the instance's resident memory
 * sampled every 5 ms meanwhile.
 */
export async function loginRush(
  base: string,
  pid: number,
  users: ReadonlyArray<{ email: string; password: string }>,
): Promise<RushResult> {
  const idleRssMiB = rssMiB(pid)
  let peakRssMiB = idleRssMiB
  const sampler = setInterval(() => {
    peakRssMiB = Math.max(peakRssMiB, rssMiB(pid))
  }, 5)
  const started = performance.now()
  const first: Answer[] = []
  try {
    await Promise.all(
      users.map(async (user, i) => {
        const from = `127.0.2.${i + 1}`
        const body = JSON.stringify(user)
        for (let attempt = 0; ; attempt++) {
          const answer = await send(base, from, 'POST', '/auth/login', { body })
          if (attempt === 0) first.push(answer)
          if (answer.status !== 503) {
            if (answer.status !== 200) throw new Error(`${user.email}: ${answer.status} ${answer.body.slice(0, 200)}`)
            return
          }
          await new Promise((resolve) => setTimeout(resolve, Number(answer.headers['retry-after'] ?? 1) * 1000))
        }
      }),
    )
  } finally {
    clearInterval(sampler)
  }
  return { first, allInMs: performance.now() - started, idleRssMiB, peakRssMiB: Math.max(peakRssMiB, rssMiB(pid)) }
}
