const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * Parses an operator-friendly duration: `500ms`, `1s`, `5m`, `2h`, `1d`, or a bare number of milliseconds.
 * Returns undefined for anything else so callers can report the variable by name.
 */
export function parseDuration(input: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input)
  if (!match) return undefined
  const value = Number(match[1]) * UNITS_MS[match[2] ?? 'ms']!
  return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined
}
