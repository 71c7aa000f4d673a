/**
 * Every ```ts block of the documentation runs, as a user would run it: compiled to
 * JavaScript on its own, in a directory of its own (its `./.didbase` is fresh), on each
 * supported Node.js (22, the repository's, and 24, the root devDependency `node24`), and it
 * must exit by itself with code 0: a block that leaves a node open never exits.
 *
 * A block preceded by `<!-- docs-run: with a peer -->` is given a running peer's multiaddr
 * and the address of a key-value database that peer holds on its command line. One preceded
 * by `<!-- docs-run: not run, <reason> -->` is not run; the reason says what does run it.
 * The examples of the README and of docs/access, schemas, sync and queries also have what
 * they print checked (PRINTS).
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDidbase, type Didbase } from '@didbase/sdk'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { documentationFiles, typescriptBlocks } from './src/markdown.js'

const root = fileURLToPath(new URL('..', import.meta.url))
/** Inside the repository, so that `@didbase/sdk` resolves to the built packages as it would for a user. */
const scripts = join(root, 'test', '.docs-run')
const NODES: Array<[string, string]> = [['22', process.execPath], ['24', join(root, 'node_modules', 'node24', 'bin', 'node')]]
const RUN_MS = 90_000

interface Block { file: string, line: number, code: string, mode: 'run' | 'with a peer' | string }

/** The `<!-- docs-run: … -->` comment on the line before a block's fence, if any. */
function modeOf (lines: string[], fenceLine: number): Block['mode'] {
  const before = lines[fenceLine - 2] ?? ''
  const m = /^<!-- docs-run: (.+?) -->$/.exec(before.trim())
  return m?.[1] ?? 'run'
}

async function blocks (): Promise<Block[]> {
  const all: Block[] = []
  for (const file of documentationFiles(root)) {
    const text = await readFile(join(root, file), 'utf8')
    const lines = text.split(/\r?\n/)
    for (const b of typescriptBlocks(text)) all.push({ file, line: b.line, code: b.code, mode: modeOf(lines, b.line) })
  }
  return all
}

async function run (node: string, script: string, args: string[], cwd: string): Promise<{ code: number | null, stdout: string, out: string }> {
  return new Promise((resolve) => {
    execFile(node, [script, ...args], { cwd, timeout: RUN_MS, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? null, stdout, out: `${stdout}\n${stderr}`.slice(-4000) })
    })
  })
}

/** What a block prints, checked on every Node: the first block after `heading` in `file`. */
const PRINTS: Array<{ file: string, heading: string, check: (stdout: string) => void }> = [
  {
    file: 'README.md',
    heading: '## Example',
    check: (stdout) => {
      expect(stdout).toMatch(/bob sees milk = \{.*"title":"Buy milk".*\}, signed by did:key:z6Mk/)
      expect(stdout).toContain('bob cannot write: AccessDeniedError')
    }
  },
  {
    file: 'docs/access.md',
    heading: '## Example',
    check: (stdout) => {
      expect(stdout).toContain('member: AccessDeniedError (not-the-owner)')
      expect(stdout).toContain('owner sees: written by the member')
      expect(stdout).toMatch(/roles: \{"admins":\["did:key:z6Mk\w+"\],"writers":\["did:key:z6Mk\w+"\]\}/)
      expect(stdout).toContain('member may write after revocation: false')
    }
  },
  {
    file: 'docs/schemas.md',
    heading: '## In databases',
    check: (stdout) => {
      expect(stdout).toContain('SchemaValidationError: /tags/1: expected String, got Int')
      expect(stdout).toContain('Buy milk true')
      const line = (key: string): unknown => JSON.parse(stdout.split('\n').find((l) => l.startsWith(`${key} {`))?.slice(key.length + 1) ?? 'null')
      expect(line('milk')).toEqual({ title: 'Buy milk', done: false, due: null })
      expect(line('bread')).toEqual({ title: 'Buy bread', done: false, due: null })
    }
  },
  {
    file: 'docs/sync.md',
    heading: '## Example',
    check: (stdout) => {
      expect(stdout).toContain('alice is offline; the replicator serves 1 database')
      expect(stdout).toContain('bob caught up from the replicator: 300 entries')
    }
  },
  {
    file: 'docs/queries.md',
    heading: '# Queries',
    check: (stdout) => {
      expect(stdout).toContain("strategy: 'index-order'")
      expect(stdout).toContain('20 10 undefined')
      expect(stdout.trim().split('\n').at(-1)).toBe('30')
    }
  },
  {
    file: 'docs/queries.md',
    heading: '## Indexes',
    check: (stdout) => {
      expect(stdout).toContain("[ 't2', 't1' ]")
      expect(stdout).toContain('index-range')
    }
  },
  {
    file: 'docs/queries.md',
    heading: '## Live queries',
    check: (stdout) => {
      // A slow reader may skip a page between; the last is the full top three.
      expect(stdout.trim().split('\n').at(-1)).toBe('bo:9 cy:7 ana:5')
    }
  }
]

const all = await blocks()
/** Each example whose output is checked, with the line of its heading (0: gone) and its block (the first after it). */
const checked = await Promise.all(PRINTS.map(async (p) => {
  const lines = (await readFile(join(root, p.file), 'utf8')).split(/\r?\n/)
  const headingLine = lines.indexOf(p.heading) + 1
  return { ...p, headingLine, block: headingLine > 0 ? all.find((b) => b.file === p.file && b.line > headingLine) : undefined }
}))
let work = ''
let served: { multiaddr: string, address: string } | undefined
/** The peer `with a peer` blocks dial: open for the whole file (test/src/peers.ts closes its peers after each test). */
let holder: Didbase | undefined

beforeAll(async () => {
  await mkdir(scripts, { recursive: true })
  work = await mkdtemp(join(scripts, 'run-'))
  holder = await createDidbase({ memory: true })
  const db = await holder.keyValue<string>('docs-run')
  await db.put('k', 'v')
  served = { multiaddr: holder.multiaddrs[0] as string, address: db.address }
})

afterAll(async () => {
  await holder?.close()
  await rm(work, { recursive: true, force: true })
})

describe('the documentation\'s TypeScript blocks run', () => {
  it('finds the blocks, and each block not run says why', () => {
    expect(all.length).toBeGreaterThanOrEqual(14)
    const notRun = all.filter((b) => b.mode !== 'run' && b.mode !== 'with a peer')
    for (const b of notRun) expect(b.mode, `${b.file}:${b.line}`).toMatch(/^not run, .{20,}/)
    expect(notRun.length).toBeLessThanOrEqual(1)
    // Each block whose output is checked is there, and runs.
    for (const p of checked) {
      expect(p.headingLine, `${p.file} has "${p.heading}"`).toBeGreaterThan(0)
      expect(p.block?.mode, `the block after ${p.file} "${p.heading}"`).toMatch(/^(run|with a peer)$/)
    }
  })

  const runnable = all.filter((b) => b.mode === 'run' || b.mode === 'with a peer')
  for (const [version, node] of NODES) {
    describe.concurrent(`on Node ${version}`, () => {
      for (const block of runnable) {
        it(`${block.file}:${block.line} runs and exits with 0`, async () => {
          const name = `${block.file.replaceAll('/', '_')}-${block.line}-node${version}`
          const dir = join(work, name)
          await mkdir(dir, { recursive: true })
          const js = ts.transpileModule(block.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
          const script = join(scripts, `${name}.mjs`)
          await writeFile(script, js)
          const args = block.mode === 'with a peer' ? [served?.multiaddr as string, served?.address as string] : []
          const result = await run(node, script, args, dir).finally(async () => rm(script, { force: true }))
          expect(result.code, `${block.file}:${block.line} on Node ${version}:\n${result.out}`).toBe(0)
          checked.find((p) => p.block === block)?.check(result.stdout)
        }, RUN_MS + 10_000)
      }
    })
  }
})
