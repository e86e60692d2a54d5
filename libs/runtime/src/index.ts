export { openRuntime, type Runtime, type RuntimeConfig } from './runtime.js'
export { buildWarehouseServices, type WarehouseServices, type WarehouseServicesOptions } from './warehouse-services.js'
