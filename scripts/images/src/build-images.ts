import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { gitDescribe, REPO_ROOT } from '@tms/cluster'
import { baseImage } from './base-image.js'
import { CONTAINER_LIMITS, imageSize, podman } from './podman.js'

export const APPS = ['api', 'worker'] as const
export type ImageApp = (typeof APPS)[number]

/** An image's name here: `localhost/tms/<app>:<tag>` (push it under your registry's name). */
export const imageName = (app: ImageApp, tag: string) => `localhost/tms/${app}:${tag}`

export interface BuiltImage {
  app: ImageApp
  image: string
  sizeBytes: number
  seconds: number
}

/** The release tag of this checkout: the apps' version and the commit, `-dirty` when changed. */
export function releaseTag(): string {
  const { version } = JSON.parse(readFileSync(`${REPO_ROOT}apps/api/package.json`, 'utf8')) as { version?: string }
  const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== ''
  return `${version ?? '0.0.0'}-${gitDescribe()}${dirty ? '-dirty' : ''}`
}

/**
 * The host's certificate authorities for npm inside the build, where the host trusts extra ones
 * (a proxy on the way to the registry): NODE_EXTRA_CA_CERTS, else npm's cafile.
 */
function caSecret(): string[] {
  const configured = process.env.NODE_EXTRA_CA_CERTS ?? process.env.npm_config_cafile
  const file =
    configured ??
    spawnSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' })
      .stdout.trim()
      .replace(/^null$|^undefined$/, '')
  return file && existsSync(file) ? ['--secret', `id=ca-certificates,src=${file}`] : []
}

/**
 * Builds the images of `apps` from the Dockerfile at the repository's root, one after the other
 * (they share the build stage), on the official base or the local one.
 */
export async function buildImages(options: {
  apps?: readonly ImageApp[]
  tag?: string
  log: (line: string) => void
}): Promise<BuiltImage[]> {
  const tag = options.tag ?? releaseTag()
  const base = await baseImage(options.log)
  const revision = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim()
  const built: BuiltImage[] = []
  for (const app of options.apps ?? APPS) {
    const image = imageName(app, tag)
    const started = Date.now()
    options.log(`building ${image} on ${base}`)
    const result = await podman(
      [
        'build',
        // HEALTHCHECK is a Docker-format instruction; OCI images drop it.
        '--format',
        'docker',
        // The build reaches the npm registry through the host's network, as npm here does.
        '--network',
        'host',
        ...CONTAINER_LIMITS,
        ...caSecret(),
        '--target',
        app,
        '--build-arg',
        `NODE_IMAGE=${base}`,
        '--build-arg',
        `VERSION=${tag}`,
        '--build-arg',
        `REVISION=${revision}`,
        '--tag',
        image,
        '--file',
        `${REPO_ROOT}Dockerfile`,
        REPO_ROOT,
      ],
      {
        onLine: (line) => {
          if (/^(STEP|COMMIT|Successfully|Error|error)/.test(line)) options.log(`  ${line.slice(0, 160)}`)
        },
      },
    )
    if (result.code !== 0) throw new Error(`podman build ${image} failed:\n${result.output.slice(-4000)}`)
    built.push({ app, image, sizeBytes: imageSize(image), seconds: (Date.now() - started) / 1000 })
  }
  // Every build leaves its stages behind untagged, about a gigabyte each, and a changed source
  // tree invalidates them all (the build copies it first): kept, they only fill the disk. The
  // base image is tagged and stays.
  const pruned = await podman(['image', 'prune', '--force'])
  if (pruned.code === 0) options.log(`removed ${pruned.output.trim().split('\n').filter(Boolean).length} untagged images`)
  return built
}
