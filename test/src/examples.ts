/** Run a TypeScript example from a Markdown file as written (Node 22 strips the types). */
import { execFile } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { tempDir } from './peers.js'

/** Run the first ```ts block after `heading` in `file` (relative to the repository root); resolve with stdout. */
export async function runExample (file: string, heading = '## Example'): Promise<string> {
  const text = await readFile(fileURLToPath(new URL(`../../${file}`, import.meta.url)), 'utf8')
  const start = text.indexOf(`${heading}\n`)
  const block = start < 0 ? undefined : /```ts\n([\s\S]*?)```/.exec(text.slice(start))?.[1]
  if (block === undefined) throw new Error(`${file} has no \`\`\`ts block after "${heading}"`)
  // The script sits in test/ so that '@didbase/sdk' resolves; it runs in a temp directory.
  const script = fileURLToPath(new URL(`../.example-${file.replaceAll('/', '-')}.ts`, import.meta.url))
  await writeFile(script, block)
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--experimental-strip-types', '--no-warnings', script], { cwd: await tempDir(), timeout: 60_000 })
    return stdout
  } finally {
    await rm(script, { force: true })
  }
}
