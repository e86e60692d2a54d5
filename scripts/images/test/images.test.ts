import { readFileSync } from 'node:fs'
import { REPO_ROOT } from '@tms/cluster'
import t from 'tap'
import { APPS, imageName, LOCAL_BASE, NODE_MAJOR, OFFICIAL_BASE, releaseTag } from '../src/index.js'

t.test('a release tag is the apps’ version and the commit, marked when the tree has changes', async (t) => {
  t.match(releaseTag(), /^\d+\.\d+\.\d+-[0-9a-f]{7,}(-dirty)?$/)
  t.equal(imageName('api', '1.2.3-abcdef0'), 'localhost/tms/api:1.2.3-abcdef0')
})

t.test("the tests run on the images' Node major", async (t) => {
  t.equal(Number(process.versions.node.split('.')[0]), NODE_MAJOR, process.version)
})

t.test('the Dockerfile builds every image target on the Node the images are said to run', async (t) => {
  const dockerfile = readFileSync(`${REPO_ROOT}Dockerfile`, 'utf8')
  t.match(dockerfile, `ARG NODE_IMAGE=${OFFICIAL_BASE}\n`, 'the official base by default')
  t.match(OFFICIAL_BASE, `node:${NODE_MAJOR}-`)
  t.match(LOCAL_BASE, `:${NODE_MAJOR}-`)
  for (const app of APPS) t.match(dockerfile, new RegExp(`^FROM runtime AS ${app}$`, 'm'), `a target for ${app}`)
})
