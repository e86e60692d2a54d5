export { type HealthPluginOptions, healthPlugin, type ReadinessCheck } from './health-plugin.js'
export { addHttpShutdownSteps, REQUEST_TIMEOUT_MS } from './http-shutdown.js'
export {
  Lifecycle,
  type LifecycleLogger,
  type LifecycleOptions,
  type LifecycleState,
  type ShutdownStep,
} from './lifecycle.js'
