/** One verdict per remote entry and path, on a stand-in policy whose judgements the test counts and controls. */
import { EntryRejectedError } from '@didbase/access'
import type { LogEntry } from '@orbitdb/core'
import { describe, expect, it } from 'vitest'
import { judgeOnce, MAX_REMEMBERED } from '../src/replica/verdicts.js'

const entry = (hash?: string): LogEntry => ({ hash, identity: 'did:key:z6Mkstranger', payload: {} }) as unknown as LogEntry

function stubPolicy (verdict: (entry: LogEntry) => Promise<boolean> = async () => true, final: (hash: string) => boolean = () => true): { canAppend: (e: LogEntry) => Promise<boolean>, isFinal: (hash: string) => boolean, calls: () => number } {
  let calls = 0
  return {
    isFinal: final,
    canAppend: async (e) => {
      calls++
      return verdict(e)
    },
    calls: () => calls
  }
}

describe('verdicts on remote entries', () => {
  it('judges an entry once for the steps that ask after it was accepted', async () => {
    const policy = stubPolicy(async () => new Promise((resolve) => setTimeout(() => { resolve(true) }, 20)))
    const verdicts = judgeOnce(policy)
    // The topic validator judges; the stall guard and OrbitDB's join ask after.
    for (let step = 0; step < 3; step++) expect(await policy.canAppend(entry('zA'))).toBe(true)
    expect(policy.calls()).toBe(1)
    expect(verdicts.stats).toEqual({ judged: 1, answered: 2 })
  })

  it('lets a step that asks while another judges judge too (the first may wait for a block the second brings)', async () => {
    let release: (() => void) | undefined
    const policy = stubPolicy(async () => policy.calls() === 1 ? new Promise<boolean>((resolve) => { release = () => { resolve(true) } }) : true)
    judgeOnce(policy)
    const first = policy.canAppend(entry('zC'))
    expect(await policy.canAppend(entry('zC'))).toBe(true)
    release?.()
    expect(await first).toBe(true)
    expect(policy.calls()).toBe(2)
  })

  it('keeps no refusal: an entry that comes again is judged again (the judge keeps refusals)', async () => {
    const policy = stubPolicy(async (e) => { throw new EntryRejectedError(e.hash, 'did:key:z6Mkstranger', 'not-a-writer', 'no role') })
    judgeOnce(policy)
    await expect(policy.canAppend(entry('zB'))).rejects.toMatchObject({ name: 'EntryRejectedError', reason: 'not-a-writer' })
    await expect(policy.canAppend(entry('zB'))).rejects.toMatchObject({ name: 'EntryRejectedError', reason: 'not-a-writer' })
    expect(policy.calls()).toBe(2)
  })

  it('keeps no acceptance that is not final: a fixed writer set still waiting for the clocks of its links judges again', async () => {
    const waiting = new Set(['zW'])
    const policy = stubPolicy(async (e) => {
      if (waiting.has(e.hash)) return true
      throw new EntryRejectedError(e.hash, 'did:key:z6Mkstranger', 'invalid-clock', 'its clock is not above its links\' clocks')
    }, (hash) => !waiting.has(hash))
    judgeOnce(policy)
    expect(await policy.canAppend(entry('zW'))).toBe(true)
    // Its links' clocks arrived and refuse it: the next step asks the policy, which says so.
    waiting.delete('zW')
    await expect(policy.canAppend(entry('zW'))).rejects.toMatchObject({ reason: 'invalid-clock' })
    expect(policy.calls()).toBe(2)
  })

  it('hands a local append (not hashed yet) to the policy every time', async () => {
    const policy = stubPolicy()
    judgeOnce(policy)
    await policy.canAppend(entry())
    await policy.canAppend(entry())
    expect(policy.calls()).toBe(2)
  })

  it(`remembers at most ${MAX_REMEMBERED} accepted hashes, the oldest forgotten first`, async () => {
    const policy = stubPolicy()
    judgeOnce(policy)
    for (let i = 0; i <= MAX_REMEMBERED; i++) await policy.canAppend(entry(`z${i}`))
    await policy.canAppend(entry(`z${MAX_REMEMBERED}`))
    expect(policy.calls()).toBe(MAX_REMEMBERED + 1)
    await policy.canAppend(entry('z0'))
    expect(policy.calls()).toBe(MAX_REMEMBERED + 2)
  })
})
