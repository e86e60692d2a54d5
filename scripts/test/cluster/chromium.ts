import { execFileSync, spawnSync } from 'node:child_process'
import { type Browser, chromium } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

/** Debian's Chromium, installed from its packages when missing (as root, as CI runs). */
export function ensureChromium(): string {
  if (spawnSync(CHROMIUM, ['--version']).status === 0) return CHROMIUM
  if (process.getuid?.() !== 0) throw new Error('Chromium is missing: sudo apt-get install -y chromium')
  process.stderr.write('installing Chromium from Debian packages (apt-get install -y chromium)...\n')
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' })
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  return CHROMIUM
}

export async function launchChromium(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: ensureChromium(), headless: true, args: ['--no-sandbox'] })
}
