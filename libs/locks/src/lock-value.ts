// A lock's value in Redis is `<holder>#<fencing token>`: who holds it and with which token, so
// that a later request, even on another instance, reads both from the key alone. The Lua scripts
// write and match the same form (fenced-mutex.ts, object-lock-index.ts), which is why a holder
// never contains '#'.

const SEPARATOR = '#'

export interface LockValue {
  holder: string
  fencingToken: number
}

/** Throws for a holder the value could not be read back from: empty, or containing '#'. */
export function assertHolder(holder: string): void {
  if (!holder || holder.includes(SEPARATOR)) throw new Error(`invalid lock holder "${holder}"`)
}

export function formatLockValue(holder: string, fencingToken: number): string {
  return `${holder}${SEPARATOR}${fencingToken}`
}

/** Holder and token of a lock's value; throws for a value that is not one (never written by us). */
export function parseLockValue(value: string): LockValue {
  const at = value.lastIndexOf(SEPARATOR)
  const token = value.slice(at + 1)
  if (at <= 0 || !/^[1-9][0-9]*$/.test(token)) throw new Error(`not a lock value: "${value.slice(0, 100)}"`)
  return { holder: value.slice(0, at), fencingToken: Number(token) }
}
