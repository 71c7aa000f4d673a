import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const demo = fileURLToPath(new URL('../src/demo.ts', import.meta.url))

describe('npm start', () => {
  it('tells the demo story without errors', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--experimental-strip-types', '--no-warnings', demo], { timeout: 60_000 })
    expect(stdout).toMatch(/member +accepted the invite and wrote a todo/)
    expect(stdout).toMatch(/owner +sees "Write docs"/)
    expect(stdout).toContain('its own SDK refused: AccessDeniedError')
    expect(stdout).toMatch(/owner +rejected an entry from did:key:\S+: not-a-writer/)
    expect(stdout).toContain('owner and member hold the same log: true')
    expect(stdout).toContain('an invalid todo was refused: /title: expected String, got Int')
    expect(stdout).toMatch(/owner +bread: "Buy bread" by did:key:/)
    expect(stdout).toMatch(/demo +done/)
    expect(stderr).not.toMatch(/Error/)
  })
})
