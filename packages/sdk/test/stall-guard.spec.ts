/** The stall guard with short limits: work that progresses is never cut short; work that does not is. */
import type { LogEntry } from '@orbitdb/core'
import { describe, expect, it } from 'vitest'
import { withoutStalling } from '../src/sync/stall-guard.js'

const entry = { hash: 'zdpuEntry', identity: 'did:key:writer' } as unknown as LogEntry

describe('withoutStalling', () => {
  it('settles with the work when it ends in time', async () => {
    await expect(withoutStalling(entry, Promise.resolve(7), () => 0, () => {}, 200)).resolves.toBe(7)
    await expect(withoutStalling(entry, Promise.reject(new Error('refused')), () => 0, () => {}, 200)).rejects.toThrow('refused')
  })

  it('gives up as unavailable once nothing arrives for the idle limit, and stops the fetches', async () => {
    let stopped = 0
    const never = new Promise<never>(() => {})
    const started = Date.now()
    await expect(withoutStalling(entry, never, () => 0, () => { stopped++ }, 200)).rejects.toMatchObject({ name: 'EntryRejectedError', reason: 'unavailable', hash: 'zdpuEntry' })
    expect(stopped).toBe(1)
    expect(Date.now() - started).toBeGreaterThanOrEqual(200)
  })

  it('lets work run past the idle limit as long as it keeps progressing', async () => {
    let received = 0
    const ticking = setInterval(() => { received++ }, 50)
    let finish: (v: string) => void = () => {}
    const work = new Promise<string>((resolve) => { finish = resolve })
    const done = withoutStalling(entry, work, () => received, () => {}, 200)
    // Poll until well past the limit (several limits of progress), then let the work end.
    while (received < 15) await new Promise((resolve) => setTimeout(resolve, 20))
    finish('caught up')
    await expect(done).resolves.toBe('caught up')
    clearInterval(ticking)
  })
})
