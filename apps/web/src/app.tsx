import { useCallback, useEffect, useState } from 'preact/hooks'
import { ApiProblem, api, SessionEnded } from './api.js'
import { Batches } from './batches.js'
import { useConnection } from './hooks.js'
import { Jobs } from './jobs.js'
import { Login } from './login.js'
import { openShipmentId, Packing } from './packing.js'
import { isOperator, type User } from './session.js'
import { ShipmentRequests } from './shipment-requests.js'

type Screen = 'packing' | 'batches' | 'requests' | 'jobs'

const SCREEN_NAMES: Record<Screen, string> = {
  packing: 'Shipments',
  batches: 'Refurbishment batches',
  requests: 'Shipment requests',
  jobs: 'Jobs',
}
const screensOf = (user: User): Screen[] =>
  isOperator(user) ? ['packing', 'batches', 'requests', 'jobs'] : ['packing', 'batches']

export function App() {
  // undefined: not known yet (asking /auth/me); null: nobody is logged in.
  const [user, setUser] = useState<User | null | undefined>(undefined)
  const [screen, setScreen] = useState<Screen>('packing')
  const [status, setStatus] = useState('')
  const [alert, setAlert] = useState('')
  const connection = useConnection()

  const say = useCallback((message: string) => {
    setAlert('')
    setStatus(message)
  }, [])
  const fail = useCallback((error: unknown) => {
    if (error instanceof SessionEnded) {
      setUser(null)
      setAlert('Your session ended. Log in again; what you were doing is kept.')
      return
    }
    setStatus('')
    setAlert(error instanceof ApiProblem ? sentence(error.message) : 'Something went wrong; it has been logged. Try again.')
  }, [])

  const start = useCallback(
    async (who: User) => {
      setAlert('')
      // What an earlier page of this user left unanswered is sent first, so the screens show its effect.
      const replayed = await api.replayOutbox(who.id).catch((error: unknown) => {
        fail(error)
        return []
      })
      setUser(who)
      const problems = replayed.filter((r) => r.problem)
      if (problems.length > 0) setAlert(problems.map((r) => `${r.label}: ${sentence(r.problem!)}`).join(' '))
      else if (replayed.length > 0) say(`Sent what was waiting: ${replayed.map((r) => r.label).join(', ')}.`)
    },
    [fail, say],
  )

  useEffect(() => {
    api
      .read<{ user: User }>('/auth/me')
      .then(({ user }) => start(user))
      .catch((error: unknown) => {
        if (error instanceof SessionEnded) setUser(null)
        else fail(error)
      })
  }, [start, fail])

  async function logOut() {
    await api.session('POST', '/auth/logout').catch(() => undefined)
    setUser(null)
    say('Logged out.')
  }

  // A newer release answered: offer a reload, but never in the middle of a shipment.
  const newer =
    connection.serverVersion !== null && connection.pageVersion !== null && connection.serverVersion !== connection.pageVersion
  const quiet = openShipmentId() === null

  return (
    <>
      <header>
        <h1>TMS packing station</h1>
        {user && (
          <p class="who">
            {user.email} ({user.roles.join(', ')}) · API {connection.serverVersion ?? '…'}{' '}
            <button type="button" onClick={logOut}>
              Log out
            </button>
          </p>
        )}
        {user && (
          <nav aria-label="Screens">
            {screensOf(user).map((s) => (
              <button type="button" key={s} aria-current={screen === s ? 'page' : undefined} onClick={() => setScreen(s)}>
                {SCREEN_NAMES[s]}
              </button>
            ))}
          </nav>
        )}
      </header>
      <p role="status" class="status">
        {connection.reconnecting ? 'Reconnecting…' : status}
      </p>
      {alert && (
        <p role="alert" class="alert">
          {alert}
        </p>
      )}
      {newer && quiet && (
        <section aria-label="New version" class="update">
          <p>A new version ({connection.serverVersion}) is available.</p>
          <button type="button" onClick={() => location.reload()}>
            Reload
          </button>
        </section>
      )}
      <main>
        {user === undefined && <p>Loading…</p>}
        {user === null && <Login onLoggedIn={start} fail={fail} />}
        {user && screen === 'packing' && <Packing user={user} say={say} fail={fail} />}
        {user && screen === 'batches' && <Batches user={user} say={say} fail={fail} />}
        {user && screen === 'requests' && <ShipmentRequests user={user} say={say} fail={fail} />}
        {user && screen === 'jobs' && <Jobs user={user} say={say} fail={fail} />}
      </main>
    </>
  )
}

/** The API's messages start lower case ("log in first"); people read sentences. */
function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1)
  return /[.!?]$/.test(text) ? text : `${text}.`
}
