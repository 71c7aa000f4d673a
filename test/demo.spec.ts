import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const demo = fileURLToPath(new URL('../packages/sdk/dist/demo.js', import.meta.url))

describe('npm start', () => {
  it('tells the demo story without errors', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [demo], { timeout: 60_000 })
    expect(stdout).toMatch(/reader +replicated milk: "Buy milk"/)
    expect(stdout).toContain('refused locally: AccessDeniedError')
    expect(stdout).toContain('live update: Buy bread')
    expect(stdout).toMatch(/demo +done/)
    expect(stderr).not.toMatch(/Error/)
  })
})
