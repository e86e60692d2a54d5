/**
 * npm run images [-- --app api|worker|all] [--tag <tag>] [--json]
 *
 * Builds the API's and the worker's images with podman from the Dockerfile at the repository's
 * root, on the official Node base image or, where no registry is reachable, on one built here
 * (Debian's mirror and the npm registry). Prints each image with its size and build time;
 * `--json` prints only that, as JSON, on stdout.
 */
import { parseArgs } from 'node:util'
import { APPS, buildImages, type ImageApp } from '@tms/images'

const { values } = parseArgs({
  options: { app: { type: 'string', default: 'all' }, tag: { type: 'string' }, json: { type: 'boolean', default: false } },
})
if (values.app !== 'all' && !APPS.includes(values.app as ImageApp)) {
  process.stderr.write(`[images] --app must be ${APPS.join(', ')} or all\n`)
  process.exit(1)
}
const apps = values.app === 'all' ? APPS : [values.app as ImageApp]
const log = (line: string) => process.stderr.write(`[images] ${line}\n`)
try {
  const built = await buildImages({ apps, ...(values.tag ? { tag: values.tag } : {}), log })
  if (values.json) process.stdout.write(`${JSON.stringify(built)}\n`)
  else
    for (const image of built)
      process.stdout.write(
        `${image.image}  ${(image.sizeBytes / 2 ** 20).toFixed(0)} MiB  built in ${image.seconds.toFixed(0)} s\n`,
      )
} catch (error) {
  log((error as Error).message)
  process.exit(1)
}
