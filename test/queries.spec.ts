/**
 * Queries as an app uses them: the team-notes listing (by author, newest first, 20 at a
 * time, next page), on a replica over loopback too; the same page with and without an index;
 * typed errors for queries that cannot run; counts; and indexes kept across a restart.
 */
import { createDidbase, createDidKeyIdentity, defineSchema, type Infer, InvalidQueryError, s } from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { connect, peer, tempDir, waitFor } from './src/peers.js'

const Note = defineSchema('Note', s.struct({ _id: s.string(), author: s.string(), text: s.string(), pinned: s.optional(s.bool()) }))

describe('queries', () => {
  it('lists a team\'s notes by author, newest first, 20 at a time, on the writer and on a replica', async () => {
    const alice = await peer({ memory: true })
    const notes = await alice.documents('team-notes', { schema: Note, indexes: [['value.author', 'time']] })
    const authors = ['did:key:zAlice', 'did:key:zBob']
    for (let i = 0; i < 45; i++) await notes.put({ _id: `n${String(i).padStart(2, '0')}`, author: authors[i % 2] as string, text: `note ${i}` })
    const query = { where: { 'value.author': 'did:key:zAlice' }, sort: [['time', 'desc']] as const, limit: 20 }
    expect(notes.explain(query)).toMatchObject({ strategy: 'index-order', index: ['value.author', 'time'] })

    const first = await notes.find(query)
    expect(first.records).toHaveLength(20)
    expect(first.records.every((r) => r.value.author === 'did:key:zAlice' && r.writer === alice.user)).toBe(true)
    const times = first.records.map((r) => r.time as number)
    expect([...times].sort((a, b) => b - a)).toEqual(times)
    expect(first.cursor).toBeTypeOf('string')
    const second = await notes.find({ ...query, after: first.cursor })
    expect(second.records).toHaveLength(3)
    expect(second.cursor).toBeUndefined()
    const listed = [...first.records, ...second.records].map((r) => r.key)
    expect(new Set(listed).size).toBe(23)
    expect(await notes.count({ 'value.author': 'did:key:zAlice' })).toBe(23)

    // The same query without the index reads every record and gives the same page.
    const bob = await peer({ memory: true })
    await connect(bob, alice)
    const copy = await bob.documents<Infer<typeof Note>>(notes.address)
    await waitFor(async () => (await copy.count()) === 45, 'the replica holds every note')
    expect(copy.explain(query).strategy).toBe('scan')
    expect((await copy.find(query)).records.map((r) => [r.key, r.hash, r.time])).toEqual(first.records.map((r) => [r.key, r.hash, r.time]))
  })

  it('refuses a query that cannot run with InvalidQueryError, and reads nothing', async () => {
    const node = await peer({ memory: true })
    const kv = await node.keyValue<{ n: number }>('bad-queries')
    await kv.put('a', { n: 1 })
    const bad: unknown[] = [
      { where: { nope: 1 } },
      { where: { 'value.n': { between: [1, 2] } } },
      { where: { 'value.n': { lt: { x: 1 } } } },
      { where: { 'value.n': { in: 'x' } } },
      { sort: [['value.n', 'up']] },
      { limit: 0 },
      { limit: 1.5 },
      { after: 'not-a-cursor' },
      { where: { or: 'x' } },
      // Queries are data a URL may hand over: their size is bounded.
      { where: { and: Array.from({ length: 6000 }, () => ({})) } },
      { where: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`value.f${i}`, { in: Array.from({ length: 1000 }, (_, j) => j) }])) },
      { sort: Array.from({ length: 17 }, (_, i) => `value.f${i}`) },
      { where: { [`value.${Array.from({ length: 40 }, () => 'a').join('.')}`]: 1 } }
    ]
    for (const query of bad) await expect(kv.find(query as never), JSON.stringify(query)).rejects.toThrow(InvalidQueryError)
    const page = await kv.find({ sort: 'value.n', limit: 1 })
    expect(page.records.map((r) => r.key)).toEqual(['a'])
    await kv.put('b', { n: 2 })
    const next = await kv.find({ sort: 'value.n', limit: 1, after: page.cursor ?? await kv.find({ sort: 'value.n', limit: 1 }).then((p) => p.cursor) })
    expect(next.records.map((r) => r.key)).toEqual(['b'])
    // A cursor of another sort is refused, not misread.
    const other = await kv.find({ sort: [['value.n', 'desc']], limit: 1 })
    await expect(kv.find({ sort: 'value.n', after: other.cursor })).rejects.toThrow(InvalidQueryError)
    await expect(node.eventLog('no-index-here', { indexes: ['value'] } as never)).rejects.toThrow(InvalidQueryError)
    await expect(node.keyValue('bad-index', { indexes: ['key'] })).rejects.toThrow(InvalidQueryError)
  })

  it('keeps an index on disk: a restart answers from it, and a new index is built with progress', async () => {
    const directory = await tempDir()
    const identity = createDidKeyIdentity()
    let node = await createDidbase({ directory, identity, listen: [] })
    let kv = await node.keyValue<{ n: number, tag: string }>('restarted', { indexes: ['value.n'] })
    await kv.batch((b) => { for (let i = 0; i < 50; i++) b.put(`k${i}`, { n: i % 7, tag: i % 2 === 0 ? 'even' : 'odd' }) })
    await kv.del('k3')
    const before = await kv.find({ where: { 'value.n': { gte: 2, lt: 5 } }, sort: 'value.n' })
    await node.close()

    node = await createDidbase({ directory, identity, listen: [] })
    kv = await node.keyValue<{ n: number, tag: string }>('restarted', { indexes: ['value.n', ['value.tag', 'value.n']] })
    const progress: Array<{ fields: readonly string[], done: number, total: number }> = []
    kv.addEventListener('index:progress', (e) => { progress.push(e.detail) })
    expect(kv.explain({ where: { 'value.n': { gte: 2, lt: 5 } } }).strategy).toBe('index-range')
    const after = await kv.find({ where: { 'value.n': { gte: 2, lt: 5 } }, sort: 'value.n' })
    expect(after.records.map((r) => [r.key, r.hash])).toEqual(before.records.map((r) => [r.key, r.hash]))
    expect(after.records).toHaveLength(20)
    const evenAbove3 = Array.from({ length: 50 }, (_, i) => i).filter((i) => i !== 3 && i % 2 === 0 && i % 7 > 3).length
    expect(await kv.count({ 'value.tag': 'even', 'value.n': { gt: 3 } })).toBe(evenAbove3)
    // Only the new index was built: 49 live keys.
    expect(progress.map((p) => p.fields.join())).toEqual(expect.arrayContaining(['value.tag,value.n']))
    expect(progress.filter((p) => p.fields.join() === 'value.n')).toEqual([])
    expect(progress.at(-1)).toMatchObject({ done: 49, total: 49 })
    await node.close()
  })

  it('adds the indexes a second open of a database asks for to the handle already open', async () => {
    const node = await peer({ memory: true })
    const kv = await node.keyValue<{ n: number }>('opened-twice')
    await kv.batch((b) => { for (let i = 0; i < 10; i++) b.put(`k${i}`, { n: i }) })
    expect(kv.explain({ where: { 'value.n': { gt: 6 } } }).strategy).toBe('scan')
    expect((await kv.find({ where: { 'value.n': { gt: 6 } } })).records.map((r) => r.key)).toEqual(['k7', 'k8', 'k9'])
    const again = await node.keyValue<{ n: number }>('opened-twice', { indexes: ['value.n'] })
    expect(again).toBe(kv)
    expect(kv.indexes).toEqual([['value.n']])
    expect(kv.explain({ where: { 'value.n': { gt: 6 } } }).strategy).toBe('index-range')
    await kv.put('k10', { n: 10 })
    expect((await kv.find({ where: { 'value.n': { gt: 6 } }, sort: [['value.n', 'desc']] })).records.map((r) => r.key)).toEqual(['k10', 'k9', 'k8', 'k7'])
  })

  it('finds strings that go on with a zero character through an index as a scan does', async () => {
    const node = await peer({ memory: true })
    const indexed = await node.keyValue<{ s: string }>('nul-indexed', { indexes: ['value.s'] })
    const plain = await node.keyValue<{ s: string }>('nul-plain')
    const values = ['', 'a', 'a\u0000', 'a\u0000z', 'a\u0001', 'b']
    for (const db of [indexed, plain]) await db.batch((b) => { values.forEach((v, i) => { b.put(`k${i}`, { s: v }) }) })
    for (const where of [{ 'value.s': { gt: 'a' } }, { 'value.s': { lte: 'a' } }, { 'value.s': 'a' }, { 'value.s': { gte: 'a\u0000', lt: 'a\u0001' } }, { 'value.s': { prefix: 'a\u0000' } }]) {
      expect(indexed.explain({ where, sort: 'value.s' }).strategy).toBe('index-order')
      const keys = async (db: typeof plain): Promise<string[]> => (await db.find({ where, sort: 'value.s' })).records.map((r) => r.key)
      expect(await keys(indexed), JSON.stringify(where)).toEqual(await keys(plain))
      // Counted from the index's rows alone (the filter is exactly its range).
      expect(await indexed.count(where), JSON.stringify(where)).toBe(await plain.count(where))
    }
    expect((await indexed.find({ where: { 'value.s': { gt: 'a' } }, sort: 'value.s' })).records.map((r) => r.value.s)).toEqual(['a\u0000', 'a\u0000z', 'a\u0001', 'b'])
    // A key with a lone surrogate would be stored as U+FFFD: refused, nothing written.
    await expect(plain.put('x\ud800', { s: 'x' })).rejects.toMatchObject({ name: 'InvalidValueError' })
  })

  it('reads the index that narrows most, and an index in the sort\'s order when a page stops it early', async () => {
    const node = await peer({ memory: true })
    const docs = await node.documents<{ _id: string, author: string, n: number }>('planned', { indexes: ['value.author', 'value.n', ['value.author', 'value.n']] })
    await docs.batch((b) => { for (let i = 0; i < 40; i++) b.put({ _id: `d${i}`, author: `a${i % 4}`, n: i }) })
    const plan = (query: Parameters<typeof docs.find>[0]): unknown => { const e = docs.explain(query); return [e.strategy, e.index?.join()] }
    expect(plan({ where: { 'value.author': 'a1' }, sort: 'value.n', limit: 3 })).toEqual(['index-order', 'value.author,value.n'])
    expect(plan({ where: { 'value.author': 'a1', 'value.n': { gte: 10 } } })).toEqual(['index-range', 'value.author,value.n'])
    expect(plan({ where: { 'value.n': { gte: 10, lt: 14 } }, sort: 'value.author' })).toEqual(['index-range', 'value.n'])
    expect(plan({ sort: [['value.n', 'desc']], limit: 5 })).toEqual(['index-order', 'value.n'])
    expect(plan({ where: { writer: node.user } })).toEqual(['scan', undefined])
    expect((await docs.find({ where: { 'value.n': { gte: 10, lt: 14 } }, sort: 'value.author' })).records.map((r) => r.key)).toEqual(['d12', 'd13', 'd10', 'd11'])
  })

  it('answers the example of docs/queries.md, "Indexes", as it says', async () => {
    const node = await peer({ memory: true })
    const tasks = await node.keyValue<{ owner: string, due: number, done: boolean }>('tasks', {
      indexes: ['value.due', ['value.owner', 'value.done', 'value.due']]
    })
    await tasks.put('t1', { owner: 'ana', due: 3, done: false })
    await tasks.put('t2', { owner: 'ana', due: 1, done: false })
    await tasks.put('t3', { owner: 'bo', due: 2, done: true })
    const open = await tasks.find({ where: { 'value.owner': 'ana', 'value.done': false }, sort: 'value.due' })
    expect(open.records.map((r) => r.key)).toEqual(['t2', 't1'])
    expect(tasks.explain({ where: { 'value.owner': 'ana', 'value.done': false }, sort: 'value.due' })).toMatchObject({ strategy: 'index-order', index: ['value.owner', 'value.done', 'value.due'] })
    expect(tasks.explain({ where: { 'value.due': { lt: 3 } } }).strategy).toBe('index-range')
  })
})
