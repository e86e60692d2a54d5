export {
  Accounts,
  type AccountsOptions,
  API_TOKEN_LIFETIME_DAYS,
  type ApiTokenView,
  type Authentication,
  FIRST_ADMIN_ID,
  hasRole,
  type IssuedApiToken,
  type Principal,
  type SessionEnding,
  type UserView,
} from './accounts.js'
export { type DevicesToAdd, MAX_DEVICES_PER_ADD } from './batch-candidates.js'
export { batchView } from './batch-views.js'
export { Catalogue, DEFAULT_PRODUCTS } from './catalogue.js'
export {
  type Address,
  type ApiToken,
  apiTokens,
  type BatchStatus,
  type DataProblem,
  type Device,
  type DeviceStatus,
  devices,
  type Item,
  type Product,
  products,
  type QuarantinedOrder,
  quarantinedOrders,
  type RefurbishmentBatch,
  ROLES,
  type Role,
  refurbishmentBatches,
  type Shipment,
  type ShipmentRequest,
  type ShipmentRequestStatus,
  type ShipmentStatus,
  shipmentRequests,
  shipments,
  type User,
  users,
  WAREHOUSE_COLLECTIONS,
} from './collections.js'
export { isKnownCountry } from './countries.js'
export {
  DEVICE_ID_PATTERN,
  type DeviceFilter,
  type DeviceInput,
  Devices,
  deviceView,
  MAX_DEVICES_PER_REGISTRATION,
  REGISTERED_BY_ANOTHER_PARTNER,
  type Registration,
} from './devices.js'
export { notFound, WAREHOUSE_ERRORS, WarehouseError, type WarehouseErrorCode } from './errors.js'
export {
  type Agent,
  type Claim,
  PackingClaims,
  type PackingClaimsOptions,
  releaseStaleClaims,
  SHIPMENT_CLAIM,
  type StaleClaimsReport,
  tooManyClaims,
} from './packing-claims.js'
export { type HashingLimits, PasswordHashing, PasswordHashingBusyError } from './password-hashing.js'
export {
  DEFAULT_SCRYPT_LOG_N,
  hashPassword,
  MIN_PRODUCTION_SCRYPT_LOG_N,
  type PasswordCheck,
  type PasswordCost,
  scryptMemoryBytes,
  verifyPassword,
} from './passwords.js'
export { QUARANTINE_LIMITS, QuarantinedOrders, type QuarantinedOrderView } from './quarantined-orders.js'
export { type AddResult, BATCH_CLAIM, type BatchesOptions, RefurbishmentBatches, type Shipper } from './refurbishment-batches.js'
export {
  ADDRESS_LIMITS,
  addressSchema,
  addTextFormats,
  firstForbiddenCharacter,
  itemSchema,
  MAX_ITEMS,
  MAX_QUANTITY,
  ORDER_ID_PATTERN,
  SKU_PATTERN,
  shipmentRequestInputSchema,
  TEXT_FORMAT_PROBLEMS,
  TEXT_FORMATS,
  textLine,
  textLines,
} from './request-schemas.js'
export { type CountsByStatus, ShipmentCounts, type ShipmentCountsOptions } from './shipment-counts.js'
export {
  findDataProblems,
  type ShipmentRequestInput,
  ShipmentRequests,
  shipmentRequestView,
} from './shipment-requests.js'
export {
  BULK_SHIPMENT_CREATION,
  Shipments,
  type ShipmentsOptions,
  type ShippedNotice,
  shipmentView,
  type WriteFence,
} from './shipments.js'
export {
  type BatchDevice,
  type BatchView,
  batchDeviceSchema,
  batchStatusSchema,
  batchViewSchema,
  type DeviceView,
  dataProblemSchema,
  deviceStatusSchema,
  deviceViewSchema,
  type ShipmentRequestView,
  type ShipmentView,
  shipmentRequestViewSchema,
  shipmentStatusSchema,
  shipmentViewSchema,
} from './views.js'
