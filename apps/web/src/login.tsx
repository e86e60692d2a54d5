import { api } from './api.js'
import { useStep } from './hooks.js'
import type { User } from './session.js'

export function Login({ onLoggedIn, fail }: { onLoggedIn: (user: User) => void; fail: (error: unknown) => void }) {
  const { busy, step } = useStep(fail)

  function submit(event: SubmitEvent) {
    event.preventDefault()
    const form = new FormData(event.currentTarget as HTMLFormElement)
    return step(async () => {
      const { user } = await api.session<{ user: User }>('POST', '/auth/login', {
        email: String(form.get('email')),
        password: String(form.get('password')),
      })
      onLoggedIn(user)
    })
  }

  return (
    <form class="card" onSubmit={submit} aria-label="Log in">
      <h2>Log in</h2>
      <label>
        Email
        <input name="email" type="email" autocomplete="username" required maxLength={254} />
      </label>
      <label>
        Password
        <input name="password" type="password" autocomplete="current-password" required maxLength={256} />
      </label>
      <button type="submit" class="primary" disabled={busy}>
        Log in
      </button>
    </form>
  )
}
