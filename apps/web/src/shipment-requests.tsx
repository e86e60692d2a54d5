import type { ShipmentRequestView } from '@tms/warehouse'
import { useState } from 'preact/hooks'
import { api } from './api.js'
import { usePolling } from './hooks.js'
import type { ScreenProps } from './session.js'

/** Operators: requests whose data must be fixed before a shipment can be made, and bulk creation. */
export function ShipmentRequests({ user, say, fail }: ScreenProps) {
  const [items, setItems] = useState<ShipmentRequestView[] | null>(null)
  const [busy, setBusy] = useState(false)
  const refresh = () =>
    api
      .read<{ items: ShipmentRequestView[] }>('/shipment-requests?status=OPEN&readiness=NEEDS_FIX&limit=50')
      .then((page) => setItems(page.items))
      .catch(fail)
  usePolling(refresh, 10_000)

  async function run(label: string, action: () => Promise<string>) {
    setBusy(true)
    try {
      say(await action())
      await refresh()
    } catch (error) {
      fail(error)
    } finally {
      setBusy(false)
    }
    return label
  }

  const createShipments = () =>
    run('Create shipments', async () => {
      const { created } = await api.write<{ created: number }>(user.id, 'Create shipments', 'POST', '/shipments/bulk')
      return `Created ${created} shipment${created === 1 ? '' : 's'} from the ready requests.`
    })

  const cancel = (request: ShipmentRequestView) =>
    run(`Cancel ${request.orderId}`, async () => {
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
            <button type="button" disabled={busy} aria-label={`Cancel order ${request.orderId}`} onClick={() => cancel(request)}>
              Cancel request
            </button>
          </li>
        ))}
      </ul>
    </section>
  )
}
