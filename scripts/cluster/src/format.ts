import type { TimelineEvent } from './local-cluster.js'

/** One line per cluster step, for people watching a start or a deploy. */
export function formatEvent(event: TimelineEvent, since: number): string {
  const t = `+${((event.at - since) / 1000).toFixed(1)}s`.padStart(8)
  const who = event.instance ? `${event.instance}${event.version ? ` (${event.version})` : ''}` : (event.version ?? '')
  return `${t}  ${event.app.padEnd(7)} ${event.action.padEnd(13)} ${who}${event.detail ? `  ${event.detail}` : ''}`
}
