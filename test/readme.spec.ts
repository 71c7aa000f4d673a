import { execFile } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { tempDir } from './src/peers.js'

const readme = fileURLToPath(new URL('../README.md', import.meta.url))

/** Node 22 strips the types from a .ts file, so the README block runs as written. */
describe('README', () => {
  it('runs the example as written', async () => {
    const text = await readFile(readme, 'utf8')
    const block = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(text)?.[1]
    expect(block).toContain('createDidbase')
    // The script sits in test/ so that '@didbase/sdk' resolves; it runs in a temp directory.
    const script = fileURLToPath(new URL('./.readme-example.ts', import.meta.url))
    await writeFile(script, block as string)
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--experimental-strip-types', '--no-warnings', script], { cwd: await tempDir(), timeout: 60_000 })
      expect(stdout).toMatch(/bob sees milk = \{.*"title":"Buy milk".*\}, signed by did:key:z6Mk/)
      expect(stdout).toContain('bob cannot write: AccessDeniedError')
    } finally {
      await rm(script, { force: true })
    }
  })
})
