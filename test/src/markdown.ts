/** Find the Markdown files whose TypeScript blocks are checked, and the blocks in them. */
import { existsSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'

/** A fenced ```ts or ```typescript block. */
export interface CodeBlock {
  /** 1-based line of the opening fence. */
  line: number
  /** The block's text, without the fences and without the indentation of the fence. */
  code: string
}

const OPEN = /^( {0,3})(`{3,}|~{3,})\s*(ts|typescript)(?=$|[\s{])/i

/** Every ```ts and ```typescript block in `text`, with the line of its opening fence. */
export function typescriptBlocks (text: string): CodeBlock[] {
  const lines = text.split(/\r?\n/)
  const blocks: CodeBlock[] = []
  let fence: { marker: string, indent: number } | undefined
  let open: { line: number, indent: number, body: string[] } | undefined
  for (const [i, line] of lines.entries()) {
    if (fence === undefined) {
      const m = /^( {0,3})(`{3,}|~{3,})(.*)$/.exec(line)
      if (m === null) continue
      const [, indent = '', marker = ''] = m
      fence = { marker, indent: indent.length }
      if (OPEN.test(line)) open = { line: i + 1, indent: indent.length, body: [] }
      continue
    }
    // A closing fence: the same character, at least as long, nothing after it.
    const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line)
    if (close?.[1] !== undefined && close[1][0] === fence.marker[0] && close[1].length >= fence.marker.length) {
      if (open !== undefined) blocks.push({ line: open.line, code: open.body.join('\n') })
      fence = undefined
      open = undefined
      continue
    }
    if (open !== undefined) open.body.push(line.replace(new RegExp(`^ {0,${open.indent}}`), ''))
  }
  // An unclosed fence runs to the end of the document (CommonMark).
  if (open !== undefined) blocks.push({ line: open.line, code: open.body.join('\n') })
  return blocks
}

function markdownIn (root: string, dir: string, only?: string): string[] {
  const path = join(root, dir)
  if (!existsSync(path)) return []
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => e.isFile() && (only === undefined ? e.name.endsWith('.md') : e.name === only))
    .map((e) => join(dir, e.name))
}

function subdirectories (root: string, dir: string): string[] {
  const path = join(root, dir)
  if (!existsSync(path)) return []
  return readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== 'node_modules').map((e) => join(dir, e.name))
}

/**
 * The documentation whose TypeScript blocks must type-check, relative to `root`, sorted:
 * README.md, docs/*.md, packages/*\/README.md and examples/*\/README.md (found anew on
 * every run, so new files are covered without a change here). docs/api is generated.
 */
export function documentationFiles (root: string): string[] {
  return [
    ...markdownIn(root, '.', 'README.md'),
    ...markdownIn(root, 'docs'),
    ...subdirectories(root, 'packages').flatMap((d) => markdownIn(root, d, 'README.md')),
    ...subdirectories(root, 'examples').flatMap((d) => markdownIn(root, d, 'README.md'))
  ].map((p) => relative(root, join(root, p)).replaceAll('\\', '/')).sort()
}
