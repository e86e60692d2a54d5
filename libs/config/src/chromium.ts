/**
 * Every browser TMS drives (the web app's tests, bench:web, the rehearsal's packing stations and
 * report) is this one: Debian's Chromium (`apt-get install chromium`), or what CHROMIUM_PATH
 * names.
 */
export function chromiumPath(env: Record<string, string | undefined> = process.env): string {
  return env.CHROMIUM_PATH || '/usr/bin/chromium'
}

/**
 * Playwright's launch options for it: `--no-sandbox` because CI runs as root, where Chromium's
 * sandbox refuses to start; no GPU on these machines; and no background calls to Google's hosts,
 * which a closed network refuses many at a time.
 */
export function chromiumLaunchOptions(env: Record<string, string | undefined> = process.env) {
  return {
    executablePath: chromiumPath(env),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  }
}
