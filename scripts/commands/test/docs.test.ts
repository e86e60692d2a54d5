import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

/**
 * The docs name files, folders and sections; a rename that forgets them leaves a reader at a
 * dead end. Every relative link (and its #section), and every path written out in the text that
 * starts at one of the repository's top folders, must exist in the working tree (or be one git
 * ignores: what a command writes).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const TOP = ['apps', 'libs', 'scripts', 'bench', 'deploy', 'docs', '.ci']

const docs = execFileSync('git', ['ls-files', '*.md'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((path) => path && !path.includes('node_modules/'))

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-')

const anchorsOf = (file: string) =>
  new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) => slug(line.replace(/^#+ /, '').trim())),
  )

/** What a command writes (bench/results/, .local/) is ignored by git and absent from a fresh clone. */
const ignoredByGit = (path: string) => spawnSync('git', ['check-ignore', '-q', path], { cwd: ROOT }).status === 0

/** A path written with a placeholder or a glob names a pattern, not a file. */
const isPattern = (path: string) => /[<>*{}…]|\.\.\.|\$/.test(path)

t.test('every path and link in the docs exists', async (t) => {
  t.ok(docs.length >= 7, `${docs.length} docs read`)
  for (const doc of docs) {
    const text = readFileSync(join(ROOT, doc), 'utf8')
    const missing: string[] = []
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue // http(s), mailto
      const [path, anchor] = target!.split('#') as [string, string | undefined]
      const file = path ? join(ROOT, dirname(doc), path) : join(ROOT, doc)
      if (!existsSync(file)) missing.push(`link ${target}`)
      else if (anchor && file.endsWith('.md') && !anchorsOf(file).has(anchor)) missing.push(`section ${target}`)
    }
    const written = new RegExp(`(?<![\\w./-])((?:${TOP.map((d) => d.replace('.', '\\.')).join('|')})/[\\w./@-]*)`, 'g')
    for (const [, raw] of text.matchAll(written)) {
      const path = raw!.replace(/[.,:;]+$/, '')
      if (isPattern(path) || isPattern(text.slice(text.indexOf(raw!), text.indexOf(raw!) + raw!.length + 1))) continue
      if (!existsSync(join(ROOT, path)) && !ignoredByGit(path)) missing.push(path)
    }
    t.same([...new Set(missing)], [], `${doc}: every path it names exists (${relative(ROOT, join(ROOT, doc))})`)
  }
})

t.test('no file refers to a tracker: a reader of the repository has no issues to look up', async (t) => {
  const tracked = execFileSync('git', ['ls-files', '*.ts', '*.tsx', '*.mjs', '*.md', '*.json', '*.yaml', '*.yml'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((path) => path && !path.includes('node_modules/') && path !== 'package-lock.json')
    .filter((path) => join(ROOT, path) !== fileURLToPath(import.meta.url)) // this file names the phrase it looks for
  t.ok(tracked.length > 300, `${tracked.length} files read`)
  const referring = tracked.filter((path) => /\bissues? #?\d|\bthe issue\b/i.test(readFileSync(join(ROOT, path), 'utf8')))
  t.same(referring, [], 'none names an issue by number, or "the issue"')
})
