import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { type Api, api, type ConnectionState } from './api.js'

/** The connection's state (reconnecting, versions), re-rendered when it changes. */
export function useConnection(client: Api = api): ConnectionState {
  const [state, setState] = useState(client.state)
  useEffect(() => client.subscribe(() => setState(client.state)), [client])
  return state
}

/** Calls the latest `fn` at once and then every `ms` while mounted. */
export function usePolling(fn: () => void, ms: number): void {
  const latest = useRef(fn)
  latest.current = fn
  useEffect(() => {
    latest.current()
    const timer = setInterval(() => latest.current(), ms)
    return () => clearInterval(timer)
  }, [ms])
}

/**
 * One user action at a time: `step(run)` marks the screen busy (its buttons disabled) while `run`
 * runs, and hands what it throws to `fail` (an alert, or the login when the session ended).
 */
export function useStep(fail: (error: unknown) => void): { busy: boolean; step: (run: () => Promise<void>) => Promise<void> } {
  const [busy, setBusy] = useState(false)
  const step = useCallback(
    async (run: () => Promise<void>) => {
      setBusy(true)
      try {
        await run()
      } catch (error) {
        fail(error)
      } finally {
        setBusy(false)
      }
    },
    [fail],
  )
  return { busy, step }
}
