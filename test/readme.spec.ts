import { describe, expect, it } from 'vitest'
import { runExample } from './src/examples.js'

describe('README', () => {
  it('runs the example as written', async () => {
    const stdout = await runExample('README.md')
    expect(stdout).toMatch(/bob sees milk = \{.*"title":"Buy milk".*\}, signed by did:key:z6Mk/)
    expect(stdout).toContain('bob cannot write: AccessDeniedError')
  })
})
