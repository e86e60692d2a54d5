export { deleteKeys, dropSchema, uniqueName } from './scratch.js'
export { seededRandom } from './seeded-random.js'
