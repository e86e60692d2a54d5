import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { REPO_ROOT } from './cluster-definition.js'

/** Built code an instance runs: a directory with apps' dist and node_modules, and a version label. */
export interface Release {
  version: string
  root: string
}

/** The current checkout, as built by `npm run build`. */
export function currentRelease(version: string): Release {
  return { version, root: REPO_ROOT }
}

export function gitDescribe(ref = 'HEAD'): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', ref], { cwd: REPO_ROOT, encoding: 'utf8' }).trim()
  } catch {
    return 'unversioned'
  }
}

function run(command: string, args: string[], cwd: string, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    })
    let output = ''
    const collect = (chunk: Buffer) => {
      output += chunk.toString()
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    const ticker = setInterval(() => log(`  ... ${command} ${args[0]} still running`), 15_000)
    child.on('exit', (code) => {
      clearInterval(ticker)
      if (code === 0) resolve()
      else reject(new Error(`${command} ${args.join(' ')} failed (${code}):\n${output.slice(-3000)}`))
    })
  })
}

/**
 * An earlier version, built from git: its tree is exported (`git archive`), installed with
 * `npm ci` and built, in `dir`. Reused when already built for the same commit.
 */
export async function buildRelease(ref: string, dir: string, log: (line: string) => void): Promise<Release> {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: REPO_ROOT, encoding: 'utf8' }).trim()
  const root = `${dir}/${sha.slice(0, 12)}/`
  const version = `0.1.0-${sha.slice(0, 7)}`
  if (existsSync(`${root}.built`)) {
    log(`release ${ref} (${sha.slice(0, 7)}) already built in ${root}`)
    return { version, root }
  }
  mkdirSync(root, { recursive: true })
  log(`building ${ref} (${sha.slice(0, 7)}) in ${root}: git archive, npm ci, build`)
  execFileSync('sh', ['-c', `git archive ${sha} | tar -x -C '${root}'`], { cwd: REPO_ROOT })
  await run('npm', ['ci', '--no-audit', '--no-fund'], root, log)
  await run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], root, log)
  execFileSync('touch', [`${root}.built`])
  log(`release ${ref} built`)
  return { version, root }
}
