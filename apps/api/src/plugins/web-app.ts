import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * The packing station (apps/web), served at `/`. Its build is one HTML file with the script and
 * styles inlined, so a page needs nothing else from the server: during a rolling deploy a page
 * of one release never asks an instance of another for an asset it does not have. It is read
 * once at start; `no-store` makes every load fetch the release that answers. The policy allows
 * exactly the inlined script and style (by hash) and requests to this origin.
 */
export const webApp = fp<{ dir: string; version: string }>(
  async (app: FastifyInstance, { dir, version }) => {
    const file = join(dir, 'index.html')
    const built = await readFile(file, 'utf8').catch(() => null)
    if (built === null) {
      app.log.warn({ file }, 'the web app is not built (npm run build): / is not served')
      return
    }
    // The page knows its release, so it can tell when a newer one answers (and offer a reload).
    const html = built.replace(
      '<meta name="tms-app-version" content="" />',
      `<meta name="tms-app-version" content="${escapeAttribute(version)}" />`,
    )
    const headers = {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': contentSecurityPolicy(html),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    }
    app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.headers(headers).send(html))
  },
  { name: 'tms-web-app', fastify: '5.x' },
)

const escapeAttribute = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export function contentSecurityPolicy(html: string): string {
  const hashes = (tag: string) =>
    [...html.matchAll(new RegExp(`<${tag}\\b[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))]
      .map((match) => `'sha256-${createHash('sha256').update(match[1]!).digest('base64')}'`)
      .join(' ')
  return [
    "default-src 'none'",
    `script-src ${hashes('script')}`,
    `style-src ${hashes('style')}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
}
