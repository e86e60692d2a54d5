import type { ShipmentView } from '@tms/warehouse'
import { useEffect, useRef, useState } from 'preact/hooks'
import { api } from './api.js'
import { usePolling, useStep } from './hooks.js'
import type { ScreenProps } from './session.js'
import { WorkList } from './work-list.js'

const OPEN_SHIPMENT = 'tms.openShipment'
/** The claim lasts PACKING_CLAIM_TTL_SECONDS (120 s by default); renewing every 30 s survives three lost renewals. */
const EXTEND_EVERY_MS = 30_000
const LIST_EVERY_MS = 5_000

/** The shipment this tab is working on, kept across a reload so the agent lands back on it. */
export const openShipmentId = (): string | null => sessionStorage.getItem(OPEN_SHIPMENT)
const remember = (id: string | null) =>
  id ? sessionStorage.setItem(OPEN_SHIPMENT, id) : sessionStorage.removeItem(OPEN_SHIPMENT)

export function Packing(props: ScreenProps) {
  const [open, setOpen] = useState<ShipmentView | null>(null)

  // After a reload: back to the shipment this tab had open, unless it is done.
  useEffect(() => {
    const id = openShipmentId()
    if (!id) return
    api
      .read<ShipmentView>(`/shipments/${id}`)
      .then(async (shipment) => {
        if (shipment.status === 'SHIPPED') return remember(null)
        if (shipment.status === 'PENDING')
          await api.write(props.user.id, `Claim ${shipment.orderId}`, 'POST', `/shipments/${id}/claim`)
        setOpen(shipment)
      })
      .catch((error: unknown) => {
        remember(null)
        props.fail(error)
      })
  }, [props.user.id, props.fail])

  function opened(shipment: ShipmentView) {
    remember(shipment.id)
    setOpen(shipment)
  }
  function closed() {
    remember(null)
    setOpen(null)
  }

  return open ? (
    <OpenShipment {...props} shipment={open} onChange={setOpen} onClose={closed} />
  ) : (
    <Pending {...props} onOpen={opened} />
  )
}

function Pending({ user, fail, onOpen }: ScreenProps & { onOpen: (shipment: ShipmentView) => void }) {
  const [items, setItems] = useState<ShipmentView[] | null>(null)
  const { busy, step } = useStep(fail)

  usePolling(() => {
    api
      .read<{ items: ShipmentView[] }>('/shipments?status=PENDING&limit=20')
      .then((page) => setItems(page.items))
      .catch(fail)
  }, LIST_EVERY_MS)

  const claim = (shipment: ShipmentView) =>
    step(async () => {
      try {
        await api.write(user.id, `Claim ${shipment.orderId}`, 'POST', `/shipments/${shipment.id}/claim`)
        onOpen(await api.read<ShipmentView>(`/shipments/${shipment.id}`))
      } catch (error) {
        // Refused (most often: another agent was quicker): not offered again until the next refresh.
        setItems((current) => current?.filter((s) => s.id !== shipment.id) ?? null)
        throw error
      }
    })

  return (
    <section aria-labelledby="pending-heading">
      <h2 id="pending-heading">Pending shipments</h2>
      {items === null && <p>Loading…</p>}
      {items?.length === 0 && <p>Nothing to pack right now. The list refreshes on its own.</p>}
      {items && (
        <WorkList
          label="Pending shipments"
          busy={busy}
          items={items.map((shipment) => ({
            key: shipment.id,
            title: `Order ${shipment.orderId}`,
            details: [
              shipment.items.map((i) => `${i.quantity} × ${i.sku}`).join(', '),
              `${shipment.address.city}, ${shipment.address.country}`,
            ],
            action: 'Claim',
            actionLabel: `Claim order ${shipment.orderId}`,
            onAction: () => claim(shipment),
          }))}
        />
      )}
    </section>
  )
}

function OpenShipment({
  user,
  say,
  fail,
  shipment,
  onChange,
  onClose,
}: ScreenProps & { shipment: ShipmentView; onChange: (s: ShipmentView) => void; onClose: () => void }) {
  const { busy, step } = useStep(fail)
  const tracking = useRef<HTMLInputElement>(null)
  const pending = shipment.status === 'PENDING'

  // Keep the claim while the shipment is open: the API lets it expire otherwise.
  useEffect(() => {
    if (!pending) return
    const timer = setInterval(() => {
      api.write(user.id, `Keep ${shipment.orderId}`, 'POST', `/shipments/${shipment.id}/claim/extend`).catch(fail)
    }, EXTEND_EVERY_MS)
    return () => clearInterval(timer)
  }, [pending, shipment.id, shipment.orderId, user.id, fail])

  useEffect(() => {
    if (shipment.status === 'PACKED') tracking.current?.focus()
  }, [shipment.status])

  const pack = () =>
    step(async () => {
      onChange(await api.write<ShipmentView>(user.id, `Pack ${shipment.orderId}`, 'POST', `/shipments/${shipment.id}/pack`))
      say(`Packed order ${shipment.orderId}. Scan or type the tracking number.`)
    })

  const ship = (event: SubmitEvent) => {
    event.preventDefault()
    const trackingNumber = tracking.current?.value.trim() ?? ''
    return step(async () => {
      await api.write(user.id, `Ship ${shipment.orderId}`, 'POST', `/shipments/${shipment.id}/ship`, { trackingNumber })
      say(`Shipped order ${shipment.orderId} with ${trackingNumber}.`)
      onClose()
    })
  }

  const leave = () =>
    step(async () => {
      if (pending) await api.write(user.id, `Release ${shipment.orderId}`, 'DELETE', `/shipments/${shipment.id}/claim`)
      onClose()
    })

  return (
    <section aria-labelledby="shipment-heading" class="card">
      <h2 id="shipment-heading">Order {shipment.orderId}</h2>
      <p>Status: {shipment.status === 'PENDING' ? 'claimed by you' : shipment.status.toLowerCase()}</p>
      <h3>Items</h3>
      <ul aria-label="Items">
        {shipment.items.map((item) => (
          <li key={item.sku}>
            {item.quantity} × {item.sku}
          </li>
        ))}
      </ul>
      <h3>Address</h3>
      <address>
        {shipment.address.name}
        <br />
        {shipment.address.street}
        <br />
        {shipment.address.postalCode} {shipment.address.city}
        <br />
        {shipment.address.country}
      </address>
      {pending && (
        <button type="button" class="primary" disabled={busy} onClick={pack}>
          Pack
        </button>
      )}
      {shipment.status === 'PACKED' && (
        <form onSubmit={ship}>
          <label>
            Tracking number
            <input
              ref={tracking}
              name="trackingNumber"
              required
              pattern="[A-Za-z0-9\-]{4,40}"
              title="4 to 40 letters, digits or dashes"
              autocomplete="off"
              maxLength={40}
            />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            Ship
          </button>
        </form>
      )}
      <button type="button" disabled={busy} onClick={leave}>
        {pending ? 'Back to the list (release it)' : 'Back to the list'}
      </button>
    </section>
  )
}
