import type { Role } from '@tms/warehouse'

/** The logged-in user as `GET /auth/me` answers it. */
export interface User {
  id: string
  email: string
  roles: Role[]
}

/** What each screen gets: who is working, and how to report what happened. */
export interface ScreenProps {
  user: User
  /** A passing state for the status line ("Shipped o-17"). */
  say: (message: string) => void
  /** Something the user must act on, shown as an alert; or an error to route (session ended). */
  fail: (error: unknown) => void
}

export const isOperator = (user: User) => user.roles.some((r) => r === 'operator' || r === 'admin')
