import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

/**
 * The layout's rule, checked on the sources: apps depend on libs, never the other way; the
 * tooling (scripts/*, bench, deploy) drives the apps as processes and imports none of them; no
 * package depends on another in a cycle; every @tms package a source imports is declared in its
 * package.json (so the build order Turborepo derives from them is the real one).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

interface Workspace {
  name: string
  dir: string
  kind: 'lib' | 'app' | 'tool'
  declared: Set<string>
  /** @tms packages imported by its sources (src/ only: what it needs to run). */
  imported: Set<string>
  /** @tms packages imported by its tests. */
  testImported: Set<string>
}

const sources = (dir: string): string[] => {
  try {
    return readdirSync(dir).flatMap((entry) => {
      const path = join(dir, entry)
      if (statSync(path).isDirectory()) return entry === 'node_modules' || entry === 'dist' ? [] : sources(path)
      return /\.(ts|mjs)$/.test(entry) ? [path] : []
    })
  } catch {
    return []
  }
}

const importsOf = (files: string[]) =>
  new Set(
    files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(@tms\/[a-z-]+)/g)].map((m) => m[1]!),
    ),
  )

function workspaces(): Workspace[] {
  const dirs = [
    ...readdirSync(join(ROOT, 'libs')).map((d) => ['libs', d] as const),
    ...readdirSync(join(ROOT, 'apps')).map((d) => ['apps', d] as const),
    ...readdirSync(join(ROOT, 'scripts'))
      .filter((d) => existsSync(join(ROOT, 'scripts', d, 'package.json')))
      .map((d) => ['scripts', d] as const),
    ...(['bench', 'deploy'] as const).map((d) => ['.', d] as const),
  ]
  return dirs.map(([group, name]) => {
    const dir = join(ROOT, group, name)
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    return {
      name: pkg.name,
      dir,
      kind: group === 'libs' ? 'lib' : group === 'apps' ? 'app' : 'tool',
      declared: new Set(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((d) => d.startsWith('@tms/'))),
      imported: importsOf(sources(join(dir, 'src'))),
      testImported: importsOf([...sources(join(dir, 'test')), ...sources(join(dir, 'fuzz'))]),
    }
  })
}

t.test('no lib or tool imports an app; every @tms import is declared; no package is in a cycle', async (t) => {
  const all = workspaces()
  const byName = new Map(all.map((w) => [w.name, w]))
  t.ok(all.filter((w) => w.kind === 'lib').length >= 10, `${all.length} workspaces read`)

  for (const w of all) {
    for (const used of [...w.imported, ...w.testImported]) {
      if (used === w.name) continue
      t.ok(byName.has(used), `${w.name} imports ${used}, which exists`)
      t.ok(w.declared.has(used), `${w.name} declares ${used}, which it imports`)
      if (w.kind !== 'app') t.not(byName.get(used)?.kind, 'app', `${w.name} (a ${w.kind}) does not import an app: ${used}`)
    }
  }

  t.ok(all.filter((w) => w.dir.includes('/scripts/')).length >= 4, 'the tooling packages under scripts/ are read')
  // Depth-first over every package's run-time imports: a cycle would make the build order undefined.
  const cycles: string[] = []
  const visit = (w: Workspace, path: string[]) => {
    if (path.includes(w.name)) {
      cycles.push([...path.slice(path.indexOf(w.name)), w.name].join(' -> '))
      return
    }
    for (const next of w.imported) {
      const used = byName.get(next)
      if (used && used !== w) visit(used, [...path, w.name])
    }
  }
  for (const w of all) visit(w, [])
  t.same([...new Set(cycles)], [], 'no cycle among the packages')
})

t.test('docs/architecture.md names every lib and tool under scripts/, and what each depends on', async (t) => {
  const architecture = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8')
  for (const lib of workspaces().filter((w) => w.kind === 'lib' || w.dir.includes('/scripts/'))) {
    const short = lib.name.replace('@tms/', '')
    t.match(architecture, new RegExp(`\\| \`${short}\` `), `${short} has its row`)
    const uses = [...lib.imported]
      .filter((d) => d !== lib.name)
      .map((d) => d.replace('@tms/', ''))
      .sort()
    const line = new RegExp(`^- \`${short}\` → (.+)$`, 'm').exec(architecture)?.[1]
    if (uses.length === 0) t.notOk(line, `${short} depends on no lib, and the page says none`)
    else
      t.same(
        line
          ?.split(', ')
          .map((u) => u.replaceAll('`', ''))
          .sort(),
        uses,
        `${short} → ${uses.join(', ')}`,
      )
  }
})
