import type { ShipmentRequestView } from '@tms/warehouse'
import { useState } from 'preact/hooks'
import { api } from './api.js'
import { usePolling, useStep } from './hooks.js'
import type { ScreenProps } from './session.js'

/** Operators: requests whose data must be fixed before a shipment can be made, and bulk creation. */
export function ShipmentRequests({ user, say, fail }: ScreenProps) {
  const [items, setItems] = useState<ShipmentRequestView[] | null>(null)
  const { busy, step } = useStep(fail)
  const [editing, setEditing] = useState<ShipmentRequestView | null>(null)
  const refresh = () =>
    api
      .read<{ items: ShipmentRequestView[] }>('/shipment-requests?status=OPEN&readiness=NEEDS_FIX&limit=50')
      .then((page) => setItems(page.items))
      .catch(fail)
  usePolling(refresh, 10_000)

  /** An action that ends in a sentence for the status line, then a fresh list. */
  const run = (action: () => Promise<string>) =>
    step(async () => {
      say(await action())
      await refresh()
    })

  const createShipments = () =>
    run(async () => {
      const { created } = await api.write<{ created: number }>(user.id, 'Create shipments', 'POST', '/shipments/bulk')
      return `Created ${created} shipment${created === 1 ? '' : 's'} from the ready requests.`
    })

  /** The edit names the version it was made on: someone else's change meanwhile is a 409, shown. */
  const save = (request: ShipmentRequestView, address: ShipmentRequestView['address']) =>
    run(async () => {
      const saved = await api.write<ShipmentRequestView>(
        user.id,
        `Fix ${request.orderId}`,
        'PATCH',
        `/shipment-requests/${request.id}`,
        {
          version: request.version,
          address,
        },
      )
      setEditing(null)
      return saved.errors.length === 0
        ? `Fixed order ${request.orderId}: ready for the next bulk creation.`
        : `Saved order ${request.orderId}; still to fix: ${saved.errors.map((e) => e.field).join(', ')}.`
    })

  const cancel = (request: ShipmentRequestView) =>
    run(async () => {
      const reason = prompt(`Why is order ${request.orderId} cancelled? The shop is told.`)?.trim()
      if (!reason) return 'Nothing cancelled.'
      await api.write(user.id, `Cancel ${request.orderId}`, 'POST', `/shipment-requests/${request.id}/cancel`, { reason })
      return `Cancelled order ${request.orderId}.`
    })

  return (
    <section aria-labelledby="requests-heading">
      <h2 id="requests-heading">Shipment requests that need fixing</h2>
      <button type="button" class="primary" disabled={busy} onClick={createShipments}>
        Create shipments
      </button>
      {items === null && <p>Loading…</p>}
      {items?.length === 0 && <p>No request needs fixing.</p>}
      <ul class="requests" aria-label="Shipment requests that need fixing">
        {items?.map((request) => (
          <li key={request.id}>
            <strong>Order {request.orderId}</strong>
            <ul aria-label={`Problems of order ${request.orderId}`}>
              {request.errors.map((problem) => (
                <li key={problem.field}>
                  <code>{problem.field}</code>: {problem.message}
                </li>
              ))}
            </ul>
            <button
              type="button"
              disabled={busy}
              aria-label={`Fix the address of order ${request.orderId}`}
              onClick={() => setEditing(request)}
            >
              Fix address
            </button>
            <button type="button" disabled={busy} aria-label={`Cancel order ${request.orderId}`} onClick={() => cancel(request)}>
              Cancel request
            </button>
            {editing?.id === request.id && (
              <AddressForm request={request} busy={busy} onSave={save} onCancel={() => setEditing(null)} />
            )}
          </li>
        ))}
      </ul>
    </section>
  )
}

const ADDRESS_FIELDS = [
  ['name', 'Name'],
  ['street', 'Street'],
  ['postalCode', 'Postal code'],
  ['city', 'City'],
  ['country', 'Country'],
] as const

function AddressForm({
  request,
  busy,
  onSave,
  onCancel,
}: {
  request: ShipmentRequestView
  busy: boolean
  onSave: (request: ShipmentRequestView, address: ShipmentRequestView['address']) => void
  onCancel: () => void
}) {
  function submit(event: SubmitEvent) {
    event.preventDefault()
    const form = new FormData(event.currentTarget as HTMLFormElement)
    const value = (field: string) => String(form.get(field) ?? '').trim()
    const postalCode = value('postalCode')
    onSave(request, {
      name: value('name'),
      street: value('street'),
      city: value('city'),
      country: value('country'),
      ...(postalCode ? { postalCode } : {}),
    })
  }
  return (
    <form class="card" aria-label={`Address of order ${request.orderId}`} onSubmit={submit}>
      {ADDRESS_FIELDS.map(([field, label]) => (
        <label key={field}>
          {label}
          <input name={field} defaultValue={request.address[field] ?? ''} required={field !== 'postalCode'} maxLength={200} />
        </label>
      ))}
      <button type="submit" class="primary" disabled={busy}>
        Save
      </button>
      <button type="button" disabled={busy} onClick={onCancel}>
        Back
      </button>
    </form>
  )
}
