/**
 * The clock rule on a fixed writer set waits for links not checked yet. What waits is
 * bounded in entries and in links: an author (on `writers: ['*']`, anyone) naming 1,024
 * links nobody has in each entry once grew it by about 445 KiB per entry, without end.
 */
import { describe, expect, it } from 'vitest'
import { EntryRejectedError } from '../src/errors.js'
import { ClockCheck } from '../src/controller/clock-check.js'

const nothingHeld = async (): Promise<number | undefined> => undefined

describe('ClockCheck', () => {
  it('an entry waits for its link, and fails once the link shows its clock does not fit', async () => {
    const clocks = new ClockCheck(nothingHeld)
    await clocks.check('child', 'did:key:writer', 9, ['parent'])
    expect(clocks.size).toEqual({ entries: 1, links: 1, keys: 1 })
    expect(() => { clocks.passed('parent', 1) }).toThrow(EntryRejectedError)
    expect(clocks.size).toEqual({ entries: 0, links: 0, keys: 0 })
    await clocks.check('fits', 'did:key:writer', 2, ['parent2'])
    clocks.passed('parent2', 1)
    expect(clocks.size.entries).toBe(0)
  })

  it('entries naming 1,024 links nobody has hold at most 65,536 links; the oldest are pushed out whole', async () => {
    const clocks = new ClockCheck(nothingHeld)
    for (let i = 0; i < 200; i++) {
      const links = Array.from({ length: 1024 }, (_, j) => `missing-${i}-${j}`)
      await clocks.check(`flood-${i}`, 'did:key:stranger', 2, links)
    }
    const { entries, links, keys } = clocks.size
    expect(links).toBeLessThanOrEqual(65_536)
    expect(keys).toBe(links)
    expect(entries).toBe(64)
    // What waits still works: the newest entry fails once its last link shows a later clock.
    for (let j = 0; j < 1023; j++) clocks.passed(`missing-199-${j}`, 1)
    expect(() => { clocks.passed('missing-199-1023', 5) }).toThrow(EntryRejectedError)
    // A pushed-out entry is left to OrbitDB's order: its links check nothing.
    expect(() => { clocks.passed('missing-0-0', 5) }).not.toThrow()
  })

  it('many entries waiting on one link are held in one set, and all are checked when it comes', async () => {
    const clocks = new ClockCheck(nothingHeld)
    for (let i = 0; i < 1000; i++) await clocks.check(`sibling-${i}`, 'did:key:writer', 2, ['head'])
    expect(clocks.size).toEqual({ entries: 1000, links: 1000, keys: 1 })
    clocks.passed('head', 1)
    expect(clocks.size).toEqual({ entries: 0, links: 0, keys: 0 })
  })
})

describe('ClockCheck while it reads the store', () => {
  it('a link that passes while the entry\'s other links are read is taken, not waited for forever', async () => {
    let release: () => void = () => {}
    const reading = new Promise<void>((resolve) => { release = resolve })
    const clocks = new ClockCheck(async (hash) => {
      if (hash === 'slow') await reading
      return undefined
    })
    const checking = clocks.check('child', 'did:key:writer', 9, ['fast', 'slow'])
    // 'fast' was found missing; it passes before the check registers what the entry waits for.
    await Promise.resolve()
    clocks.passed('fast', 1)
    release()
    await checking
    // It waits for 'slow' alone, and is checked when that one passes.
    expect(clocks.size).toEqual({ entries: 1, links: 1, keys: 1 })
    expect(() => { clocks.passed('slow', 1) }).toThrow(EntryRejectedError)
  })
})
