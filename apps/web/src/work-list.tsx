/** One piece of work waiting in a list: what it is, and the one button that takes it up. */
export interface WorkItem {
  key: string
  title: string
  /** A line each: what is in it, where it goes. */
  details: string[]
  /** The button's text ("Claim", "Open") and its accessible name, which names the item. */
  action: string
  actionLabel: string
  onAction: () => void
}

/** The waiting work of a screen, one row per item; every button is off while a step runs. */
export function WorkList({ label, items, busy }: { label: string; items: WorkItem[]; busy: boolean }) {
  return (
    <ul class="shipments" aria-label={label}>
      {items.map((item) => (
        <li key={item.key}>
          <div>
            <strong>{item.title}</strong>
            {item.details.map((line, index) => (
              <span key={index}>{line}</span>
            ))}
          </div>
          <button type="button" class="primary" disabled={busy} aria-label={item.actionLabel} onClick={item.onAction}>
            {item.action}
          </button>
        </li>
      ))}
    </ul>
  )
}
