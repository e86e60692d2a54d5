import { useEffect, useRef, useState } from 'preact/hooks'
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
