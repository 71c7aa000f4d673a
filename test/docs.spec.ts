import { describe, expect, it } from 'vitest'
import { runExample } from './src/examples.js'

describe('docs/access.md', () => {
  it('runs the example as written', async () => {
    const stdout = await runExample('docs/access.md')
    expect(stdout).toContain('member: AccessDeniedError (not-the-owner)')
    expect(stdout).toContain('owner sees: written by the member')
    expect(stdout).toMatch(/roles: \{"admins":\["did:key:z6Mk\w+"\],"writers":\["did:key:z6Mk\w+"\]\}/)
    expect(stdout).toContain('member may write after revocation: false')
  })
})
