import { execFileSync, spawnSync } from 'node:child_process'
import { chromiumLaunchOptions, chromiumPath } from '@tms/config'
import { type Browser, chromium } from 'playwright-core'

/** Debian's Chromium, installed from its packages when missing (as root, as CI runs). */
function ensureChromium(): void {
  if (spawnSync(chromiumPath(), ['--version']).status === 0) return
  if (process.getuid?.() !== 0) throw new Error('Chromium is missing: sudo apt-get install -y chromium')
  process.stderr.write('installing Chromium from Debian packages (apt-get install -y chromium)...\n')
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' })
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
    stdio: 'ignore',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
}

export async function launchChromium(): Promise<Browser> {
  ensureChromium()
  return chromium.launch({ ...chromiumLaunchOptions(), headless: true })
}
