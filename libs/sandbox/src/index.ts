export { type Exit, isRunning, stopChild } from './child-exit.js'
export { deleteKeys, dropSchema, uniqueName } from './scratch.js'
export { seededRandom } from './seeded-random.js'
