/**
 * Every ```ts and ```typescript block in the documentation type-checks as written, as a
 * module of its own, against the built packages (`@didbase/sdk`, `@didbase/access` and
 * `@didbase/schemas` resolve as they would for a user). All blocks are checked in one
 * TypeScript program, with the repository's compiler options.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { documentationFiles, typescriptBlocks } from './src/markdown.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const testDir = join(root, 'test')

interface Located {
  file: string
  /** Line of the opening fence in `file`. */
  line: number
  code: string
  /** Where the block is written for the compiler. */
  path: string
}

const files = documentationFiles(root)
const blocks: Located[] = files.flatMap((file) =>
  typescriptBlocks(readFileSync(join(root, file), 'utf8')).map((b) => ({ file, line: b.line, code: b.code, path: '' })))

/**
 * A block that must fail, checked in the same program: proves that the packages resolve to
 * their real types (an unresolved or `any` import would not give this error).
 */
const canary: Located = {
  file: '(canary)',
  line: 0,
  code: 'import { createDidbase } from \'@didbase/sdk\'\n\nexport const wrong: number = createDidbase\n',
  path: ''
}

/** The repository's compiler options (tsconfig.base.json), for a type-check only. */
function compilerOptions (): ts.CompilerOptions {
  const configPath = join(root, 'tsconfig.base.json')
  const config = ts.readConfigFile(configPath, ts.sys.readFile)
  if (config.error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, testDir, undefined, configPath)
  return {
    ...parsed.options,
    noEmit: true,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    skipLibCheck: true,
    types: ['node']
  }
}

/** Diagnostics per block path, from one program over every block, and those about no one file. */
function typeCheck (located: Located[]): { byPath: Map<string, readonly ts.Diagnostic[]>, global: readonly ts.Diagnostic[] } {
  // The ambient declarations the packages are built with (e.g. '@orbitdb/core').
  const ambient = ts.sys.readDirectory(join(root, 'types'), ['.d.ts'])
  const program = ts.createProgram({ rootNames: [...located.map((b) => b.path), ...ambient], options: compilerOptions() })
  const byPath = new Map<string, readonly ts.Diagnostic[]>()
  for (const block of located) {
    const source = program.getSourceFile(block.path)
    if (source === undefined) throw new Error(`${block.path} is not in the program`)
    byPath.set(block.path, [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)])
  }
  return { byPath, global: [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()] }
}

/** `README.md:52 (block at line 44): error TS2345: …`, with the line in the Markdown file. */
function describeDiagnostic (block: Located, d: ts.Diagnostic): string {
  const text = ts.flattenDiagnosticMessageText(d.messageText, '\n  ')
  if (d.file === undefined || d.start === undefined) return `${block.file} (block at line ${block.line}): error TS${d.code}: ${text}`
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start)
  const where = d.file.fileName === block.path ? `${block.file}:${block.line + 1 + line}:${character + 1}` : `${d.file.fileName}:${line + 1}:${character + 1}`
  return `${where} (block at line ${block.line}): error TS${d.code}: ${text}`
}

let diagnostics: ReturnType<typeof typeCheck> = { byPath: new Map(), global: [] }
let tempDir: string | undefined

beforeAll(() => {
  if (!existsSync(join(root, 'packages/sdk/dist/index.d.ts'))) throw new Error('the packages are not built; run: npm run build')
  // Inside test/, so that '@didbase/*' resolve through node_modules and the files are ES modules.
  tempDir = mkdtempSync(join(testDir, '.docs-blocks-'))
  for (const [i, block] of [...blocks, canary].entries()) {
    block.path = join(tempDir, `${String(i).padStart(3, '0')}-${block.file.replace(/[^\w.-]+/g, '-')}-${block.line}.ts`)
    writeFileSync(block.path, `${block.code}\n`)
  }
  diagnostics = typeCheck([...blocks, canary])
}, 60_000)

afterAll(() => {
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true })
})

describe('TypeScript blocks in the documentation type-check', () => {
  it('finds the documentation and its blocks', () => {
    expect(files).toContain('README.md')
    expect(files).toContain('docs/getting-started.md')
    expect(blocks.filter((b) => b.file === 'README.md').length).toBeGreaterThan(0)
    expect(diagnostics.global.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([])
  })

  it('fails a block that does not type-check (canary)', () => {
    const codes = (diagnostics.byPath.get(canary.path) ?? []).map((d) => d.code)
    expect(codes, 'the canary block should fail with exactly TS2322; the checker is not seeing the real types').toEqual([2322])
  })

  it.each(files.filter((file) => blocks.some((b) => b.file === file)))('%s', (file) => {
    const errors = blocks
      .filter((b) => b.file === file)
      .flatMap((b) => (diagnostics.byPath.get(b.path) ?? []).map((d) => describeDiagnostic(b, d)))
    expect(errors.join('\n'), `${file}: TypeScript blocks do not type-check`).toBe('')
  })
})
