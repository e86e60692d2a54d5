// One ioredis major across the whole tree: BullMQ, redis-semaphore, @fastify/redis and bentocache
// must share connections and types. npm would silently install a second copy on a peer mismatch.
import { execFileSync } from 'node:child_process'

const tree = JSON.parse(execFileSync('npm', ['ls', 'ioredis', '--all', '--json'], { encoding: 'utf8' }))
const versions = new Set()
const walk = (node) => {
  for (const [name, dep] of Object.entries(node.dependencies ?? {})) {
    if (name === 'ioredis' && dep.version) versions.add(dep.version)
    walk(dep)
  }
}
walk(tree)
if (versions.size !== 1) {
  console.error(`expected exactly one ioredis version in the tree, found: ${[...versions].join(', ') || 'none'}`)
  process.exit(1)
}
console.log(`ioredis: one version in the tree (${[...versions][0]})`)
