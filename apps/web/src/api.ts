import { newIdempotencyKey, outbox, type PendingWrite } from './outbox.js'

/** An answer the user must act on: a 4xx, in words. Never retried. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Field by field: what to fix, or what to choose between (the partners of a masterbox). */
    readonly details: ReadonlyArray<{ field: string; message: string }> = [],
  ) {
    super(message)
  }
}

/** The session really ended (401): the app goes to the login, keeping what was being done. */
export class SessionEnded extends Error {}

/** Answers that mean "not now" rather than "no": the balancer or an instance between releases. */
const TRANSIENT = new Set([502, 503, 504])
const MAX_BACKOFF_MS = 3000
/** A shift: an outbox write older than this is dropped rather than sent (see replayOutbox). */
const MAX_OUTBOX_AGE_MS = 8 * 60 * 60 * 1000

export interface ConnectionState {
  /** True while requests fail for connection reasons and are being retried. */
  reconnecting: boolean
  /** The release this page belongs to, and the API version of the latest answer. */
  pageVersion: string | null
  serverVersion: string | null
}

/**
 * Every request of the app goes through here. Reads and writes are retried with backoff on a
 * connection error, a 502/503/504 or IDEMPOTENCY_KEY_IN_PROGRESS, showing "Reconnecting…";
 * writes carry an Idempotency-Key and wait in the outbox until answered.
 */
export class Api {
  state: ConnectionState = {
    reconnecting: false,
    // The release that served this page (the API fills the meta tag in); else the first answer's.
    pageVersion: document.querySelector('meta[name="tms-app-version"]')?.getAttribute('content') || null,
    serverVersion: null,
  }
  readonly #listeners = new Set<() => void>()

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #update(change: Partial<ConnectionState>): void {
    const next = { ...this.state, ...change }
    if (Object.entries(change).every(([k, v]) => this.state[k as keyof ConnectionState] === v)) return
    this.state = next
    for (const listener of this.#listeners) listener()
  }

  read<T>(path: string): Promise<T> {
    return this.#send<T>('GET', path)
  }

  /** A user action: stored in the outbox first, then sent until the API answers it. */
  async write<T>(userId: string, label: string, method: PendingWrite['method'], path: string, body?: unknown): Promise<T> {
    const write: PendingWrite = { key: newIdempotencyKey(), userId, method, path, label, createdAt: Date.now() }
    if (body !== undefined) write.body = body
    await outbox.put(write)
    return this.#deliver<T>(write)
  }

  /**
   * Sends what an earlier page (or session) of this user left in the outbox, with the same keys.
   * A write older than a shift is dropped, not sent: the API keeps answers for a day, and a Pack
   * from yesterday is no longer what the agent means.
   */
  async replayOutbox(userId: string): Promise<Array<{ label: string; problem?: string }>> {
    const done: Array<{ label: string; problem?: string }> = []
    for (const write of await outbox.of(userId)) {
      if (Date.now() - write.createdAt > MAX_OUTBOX_AGE_MS) {
        await outbox.remove(write.key)
        done.push({ label: write.label, problem: 'not sent: it waited more than 8 hours' })
        continue
      }
      try {
        await this.#deliver(write)
        done.push({ label: write.label })
      } catch (error) {
        if (error instanceof ApiProblem) done.push({ label: write.label, problem: error.message })
        else throw error
      }
    }
    return done
  }

  async #deliver<T>(write: PendingWrite): Promise<T> {
    try {
      const answer = await this.#send<T>(write.method, write.path, write.body, write.key)
      await outbox.remove(write.key)
      return answer
    } catch (error) {
      // A refusal is an answer: the action is over. A session that ended keeps it for after the login.
      if (error instanceof ApiProblem) await outbox.remove(write.key)
      throw error
    }
  }

  /** Login and logout: no Idempotency-Key and no outbox (a repeat is harmless); retried like reads. */
  async session<T>(method: 'POST', path: string, body?: unknown): Promise<T> {
    return this.#send<T>(method, path, body)
  }

  async #send<T>(method: string, path: string, body?: unknown, key?: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let response: Response
      try {
        response = await fetch(path, {
          method,
          credentials: 'same-origin',
          headers: {
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(key ? { 'idempotency-key': key } : {}),
          },
          body: body === undefined ? null : JSON.stringify(body),
        })
      } catch {
        await this.#backOff(attempt)
        continue
      }
      const version = response.headers.get('x-app-version')
      if (version) this.#update({ serverVersion: version, pageVersion: this.state.pageVersion ?? version })
      const answer = response.status === 204 ? null : await response.json().catch(() => null)
      const code = (answer as { code?: string } | null)?.code ?? ''
      if (TRANSIENT.has(response.status) || code === 'IDEMPOTENCY_KEY_IN_PROGRESS') {
        await this.#backOff(attempt)
        continue
      }
      this.#update({ reconnecting: false })
      if (response.status === 401 && path !== '/auth/login') throw new SessionEnded('your session ended; log in again')
      if (!response.ok) {
        const { message, details } = (answer ?? {}) as { message?: string; details?: ApiProblem['details'] }
        throw new ApiProblem(response.status, code, message ?? `the server answered ${response.status}`, details ?? [])
      }
      return answer as T
    }
  }

  async #backOff(attempt: number): Promise<void> {
    this.#update({ reconnecting: true })
    const ms = Math.min(MAX_BACKOFF_MS, 200 * 2 ** attempt) * (0.5 + Math.random() / 2)
    await new Promise((resolve) => setTimeout(resolve, ms))
  }
}

export const api = new Api()
