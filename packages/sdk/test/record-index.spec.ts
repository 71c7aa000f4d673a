/**
 * The record index: the total order every replica shares. Synthetic logs in memory (the
 * index reads entries through a function, so no node is needed).
 */
import type { LogEntry } from '@orbitdb/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareEntries, RecordIndex, recordWritesOf, type Winner } from '../src/databases/record-index.js'

interface Step { key: string, del: boolean, writer: string, parents: number[], tick: number }

const step = fc.record({
  key: fc.constantFrom('a', 'b', 'c'),
  del: fc.boolean(),
  writer: fc.constantFrom('did:key:w1', 'did:key:w2', 'did:key:w3'),
  parents: fc.array(fc.nat(), { maxLength: 3 }),
  // 0: the same Lamport time as a parent (concurrent writes), so ties are broken by id and hash.
  tick: fc.integer({ min: 0, max: 2 })
})

/** A DAG of entries: each links to earlier ones; hashes are not in creation order. */
function buildLog (steps: Step[]): LogEntry[] {
  const entries: LogEntry[] = []
  steps.forEach((s, i) => {
    const next = i === 0 ? [] : [...new Set(s.parents.map((p) => entries[p % i]!.hash))]
    const time = Math.max(0, ...next.map((h) => entries.find((e) => e.hash === h)!.clock.time)) + s.tick
    entries.push({
      id: '/orbitdb/test',
      hash: `h${((i * 7_919) % 1_000).toString().padStart(3, '0')}-${i}`,
      next,
      refs: [],
      clock: { id: s.writer, time },
      payload: s.del ? { op: 'DEL', key: s.key, value: null } : { op: 'PUT', key: s.key, value: i },
      identity: s.writer,
      v: 2,
      key: s.writer,
      sig: ''
    })
  })
  return entries
}

function headsOf (entries: LogEntry[]): LogEntry[] {
  const linked = new Set(entries.flatMap((e) => e.next))
  return entries.filter((e) => !linked.has(e.hash))
}

/** The winner of each key by brute force: the greatest of all its entries. */
function expected (entries: LogEntry[]): Map<string, LogEntry> {
  const best = new Map<string, LogEntry>()
  for (const e of entries) {
    const key = (e.payload as { key: string }).key
    const current = best.get(key)
    if (current === undefined || compareEntries(e, current) > 0) best.set(key, e)
  }
  return best
}

async function indexIn (entries: LogEntry[], order: number[]): Promise<RecordIndex> {
  const byHash = new Map(entries.map((e) => [e.hash, e]))
  const index = new RecordIndex(async (hash) => byHash.get(hash), async () => headsOf(entries), recordWritesOf)
  for (const i of order) index.add(entries[i]!)
  return index
}

const shape = (w: Winner | undefined): unknown => w && { hash: w.hash, deleted: w.deleted }

describe('RecordIndex', () => {
  it('any arrival order gives every key the same winner: the greatest entry by (time, clock id, hash)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(step, { minLength: 1, maxLength: 25 }).chain((steps) => fc.tuple(
        fc.constant(steps),
        fc.shuffledSubarray([...steps.keys()], { minLength: steps.length, maxLength: steps.length }),
        fc.shuffledSubarray([...steps.keys()], { minLength: 1, maxLength: steps.length })
      )),
      async ([steps, order, partial]) => {
        const entries = buildLog(steps)
        const want = expected(entries)
        const [all, some] = await Promise.all([indexIn(entries, order), indexIn(entries, partial)])
        for (const key of ['a', 'b', 'c']) {
          const w = want.get(key)
          const wanted = w && { hash: w.hash, deleted: (w.payload as { op: string }).op === 'DEL' }
          expect(shape(await all.winner(key))).toEqual(wanted)
          // A replica that saw only some entries first catches up with the heads before it reads.
          expect(shape(await some.winner(key))).toEqual(wanted)
        }
        expect((await all.live()).map((w) => w.hash)).toEqual((await some.live()).map((w) => w.hash))
      }
    ), { numRuns: 200 })
  })

  it('orders entries totally: time first, then clock id, then hash', () => {
    const at = (time: number, id: string, hash: string): { hash: string, clock: { time: number, id: string } } => ({ hash, clock: { time, id } })
    expect(compareEntries(at(2, 'a', 'x'), at(1, 'z', 'z'))).toBeGreaterThan(0)
    expect(compareEntries(at(1, 'b', 'a'), at(1, 'a', 'z'))).toBeGreaterThan(0)
    expect(compareEntries(at(1, 'a', 'y'), at(1, 'a', 'x'))).toBeGreaterThan(0)
    expect(compareEntries(at(1, 'a', 'x'), at(1, 'a', 'x'))).toBe(0)
  })

  it('indexes access operations as no record', async () => {
    const [put] = buildLog([{ key: 'a', del: false, writer: 'did:key:w1', parents: [], tick: 1 }])
    const grant = { ...put!, hash: 'grant', next: [put!.hash], clock: { id: 'did:key:w1', time: 2 }, payload: { op: 'ACL', key: null, value: { action: 'grant' } } }
    const index = await indexIn([put!, grant], [1])
    expect(shape(await index.winner('a'))).toEqual({ hash: put!.hash, deleted: false })
    expect((await index.live()).length).toBe(1)
  })
})
