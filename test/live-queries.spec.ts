/**
 * Live queries: a watch hands out its first page, then a page each time a write changes
 * it, from this replica or from another over loopback (the live path, with the 15 s
 * anti-entropy tick switched off), and nothing for writes that leave it as it was. "Nothing"
 * is checked without sleeping: after each write that must not emit, a write that must is
 * made, and the very next page has to be that one's.
 */
import type { KeyValueDatabase, Page } from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { connect, peer, waitFor } from './src/peers.js'

type Doc = { n: number, tag?: string }

/** Pages a watch handed out so far, and a way to wait for the next one. */
function recorder (): { pages: Array<Page<Doc>>, onPage: (page: Page<Doc>) => void, next: (count: number) => Promise<Page<Doc>> } {
  const pages: Array<Page<Doc>> = []
  return {
    pages,
    onPage: (page) => { pages.push(page) },
    next: async (count) => waitFor(() => pages.length >= count ? pages[count - 1] : undefined, `page ${count}`)
  }
}

const keys = (page: Page<Doc>): string[] => page.records.map((r) => r.key)

async function fill (kv: KeyValueDatabase<Doc>): Promise<void> {
  await kv.batch((b) => { b.put('a', { n: 20 }).put('b', { n: 15 }).put('c', { n: 12 }).put('d', { n: 3 }) })
}

describe('live queries', () => {
  for (const indexed of [true, false]) {
    it(`emit on writes that change the page and on nothing else${indexed ? ' (indexed)' : ' (scanning)'}`, async () => {
      const node = await peer({ memory: true })
      const kv = await node.keyValue<Doc>(`live-${indexed}`, indexed ? { indexes: ['value.n'] } : {})
      await fill(kv)
      const query = { where: { 'value.n': { gte: 10 } }, sort: [['value.n', 'desc']] as const, limit: 3 }
      expect(kv.explain(query).strategy).toBe(indexed ? 'index-order' : 'scan')
      const seen = recorder()
      const controller = new AbortController()
      kv.watch(query, { onPage: seen.onPage, signal: controller.signal })
      expect(keys(await seen.next(1))).toEqual(['a', 'b', 'c'])

      // Outside the filter, then below the page's end: nothing; then a record that enters it.
      await kv.put('e', { n: 1 })
      await kv.put('f', { n: 11 })
      await kv.put('g', { n: 30 })
      expect(keys(await seen.next(2))).toEqual(['g', 'a', 'b'])
      // A record leaving the page, a change inside it, a deletion from it.
      await kv.put('a', { n: 5 })
      expect(keys(await seen.next(3))).toEqual(['g', 'b', 'c'])
      await kv.put('b', { n: 15, tag: 'edited' })
      const edited = await seen.next(4)
      expect(edited.records.find((r) => r.key === 'b')?.value.tag).toBe('edited')
      await kv.del('g')
      expect(keys(await seen.next(5))).toEqual(['b', 'c', 'f'])
      // A write that rewrites a record outside the page: nothing; a batch that changes it: one page.
      await kv.put('d', { n: 4 })
      await kv.batch((b) => { b.put('h', { n: 13 }).put('i', { n: 14 }) })
      expect(keys(await seen.next(6))).toEqual(['b', 'i', 'h'])
      expect(seen.pages).toHaveLength(6)

      controller.abort()
      await kv.put('j', { n: 99 })
      expect(keys(await kv.find(query))).toEqual(['j', 'b', 'i'])
      expect(seen.pages).toHaveLength(6)
    })
  }

  it('emit on a replica for an entry that arrives live, as an async iterator an AbortSignal ends', async () => {
    const writer = await peer({ memory: true })
    const reader = await peer({ memory: true, resync: { intervalMs: 0, retry: false } })
    const kv = await writer.keyValue<Doc>('live-remote', { indexes: ['value.n'] })
    await fill(kv)
    await connect(reader, writer)
    const copy = await reader.keyValue<Doc>(kv.address, { indexes: ['value.n'] })
    await copy.whenSynced()
    await waitFor(async () => (await copy.count()) === 4, 'the replica holds the first records')

    const controller = new AbortController()
    const query = { where: { 'value.n': { gte: 10 } }, sort: [['value.n', 'desc']] as const, limit: 3 }
    const pages: string[][] = []
    const updates: string[] = []
    copy.addEventListener('update', (e) => { updates.push(e.detail.hash) })
    const watching = (async () => {
      for await (const page of copy.watch(query, { signal: controller.signal })) {
        pages.push(keys(page))
        if (pages.length === 1) {
          await kv.put('e', { n: 1 })
          await kv.put('f', { n: 50 })
        }
      }
    })()
    await waitFor(() => pages.length >= 2, 'the page with the replicated record')
    expect(pages).toEqual([['a', 'b', 'c'], ['f', 'a', 'b']])
    // Both entries arrived through the live path (anti-entropy is off), and the one outside
    // the filter gave no page.
    await waitFor(async () => (await copy.get('e')) !== undefined, 'the entry outside the filter applied')
    expect(updates.length).toBeGreaterThan(0)
    controller.abort()
    await watching
    expect(pages).toHaveLength(2)
  })

  it('end when their database closes', async () => {
    const node = await peer({ memory: true })
    const kv = await node.keyValue<Doc>('live-closing', { indexes: ['value.n'] })
    await fill(kv)
    const pages: string[][] = []
    const iterating = (async () => {
      for await (const page of kv.watch({ sort: 'value.n', limit: 2 })) pages.push(keys(page))
    })()
    const called = recorder()
    kv.watch({ sort: 'value.n', limit: 2 }, { onPage: called.onPage })
    await called.next(1)
    await waitFor(() => pages.length === 1, 'the first page')
    await kv.close()
    await iterating
    expect(pages).toEqual([['d', 'c']])
    expect(called.pages).toHaveLength(1)
  })
})
