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

describe('docs/schemas.md', () => {
  it('runs the example as written', async () => {
    const stdout = await runExample('docs/schemas.md', '## In databases')
    expect(stdout).toContain('SchemaValidationError: /tags/1: expected String, got Int')
    expect(stdout).toContain('Buy milk true')
    const line = (key: string): unknown => JSON.parse(stdout.split('\n').find((l) => l.startsWith(`${key} {`))?.slice(key.length + 1) ?? 'null')
    expect(line('milk')).toEqual({ title: 'Buy milk', done: false, due: null })
    expect(line('bread')).toEqual({ title: 'Buy bread', done: false, due: null })
  })
})

describe('docs/sync.md', () => {
  it('runs the example as written', async () => {
    const stdout = await runExample('docs/sync.md')
    expect(stdout).toContain('alice is offline; the replicator serves 1 database')
    expect(stdout).toContain('bob caught up from the replicator: 300 entries')
  })
})
