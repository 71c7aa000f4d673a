/**
 * Indexed queries answer exactly what a plain scan of the same records answers, in
 * membership and order, page after page: after random puts, deletes and batches from two
 * writers, replication between their replicas, a database reopened and a node restarted,
 * on LevelDB. The expected answer comes from test/src/query-oracle.ts, not from the SDK.
 * (The same property on IndexedDB runs in Chromium: examples/browser-todo/test.)
 */
import { createDidbase, createDidKeyIdentity, type Didbase, type DocumentsDatabase } from '@didbase/sdk'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { answer, INDEXES, type OracleQuery, query, step } from './src/query-oracle.js'
import { collect, connect, peer, tempDir, waitFor } from './src/peers.js'

type Docs = DocumentsDatabase<Record<string, unknown>>

async function synced (x: Docs, y: Docs): Promise<void> {
  await waitFor(async () => JSON.stringify((await x.heads()).sort()) === JSON.stringify((await y.heads()).sort()), 'both replicas hold the same heads')
}

const strategies = new Map<string, number>()

/** Page through `q` on `db` and compare every page with the oracle's answer over the replica's own records. */
async function check (db: Docs, q: OracleQuery): Promise<void> {
  const strategy = db.explain({ where: q.where as never, sort: q.sort as never, ...(q.limit !== undefined ? { limit: q.limit } : {}) }).strategy
  strategies.set(strategy, (strategies.get(strategy) ?? 0) + 1)
  const records = await collect(db.entries())
  const expected = answer(records, q).map((r) => `${r.key}@${r.hash}`)
  const got: string[] = []
  let after: string | undefined
  for (let pages = 0; ; pages++) {
    const page = await db.find({ where: q.where as never, sort: q.sort as never, ...(q.limit !== undefined ? { limit: q.limit } : {}), ...(after !== undefined ? { after } : {}) })
    if (q.limit !== undefined) expect(page.records.length).toBeLessThanOrEqual(q.limit)
    got.push(...page.records.map((r) => `${r.key}@${r.hash}`))
    if (page.cursor === undefined) break
    expect(page.records.length, 'a page with a cursor is full').toBe(q.limit)
    after = page.cursor
    expect(pages).toBeLessThan(100)
  }
  expect(got, `${JSON.stringify(q)} via ${JSON.stringify(db.explain({ where: q.where as never, sort: q.sort as never }))}`).toEqual(expected)
  expect(await db.count(q.where as never)).toBe(expected.length)
}

describe('indexed queries against a plain scan', () => {
  it('give the same pages after puts, deletes, batches, replication, a reopen and a restart (LevelDB)', async () => {
    const directory = await tempDir()
    const identity = createDidKeyIdentity()
    let a: Didbase = await createDidbase({ directory, identity })
    const b = await peer()
    try {
      await connect(b, a)
      let run = 0
      await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), fc.array(query, { minLength: 1, maxLength: 6 }), fc.boolean(), async (writes, queries, restart) => {
        const name = `prop-${run++}`
        let onA = await a.documents(name, { writers: [a.user, b.user], indexes: INDEXES })
        const onB = await b.documents(onA.address, { indexes: INDEXES })
        const reopen = async (): Promise<void> => {
          await onA.close()
          onA = await a.documents(name, { writers: [a.user, b.user], indexes: INDEXES })
        }
        for (const w of writes) {
          const db = 'on' in w && w.on === 'b' ? onB : onA
          if (w.kind === 'put') await db.put({ _id: w.key, ...w.value })
          else if (w.kind === 'del') { if (await db.get(w.key) !== undefined) await db.del(w.key) }
          else if (w.kind === 'batch') {
            const dels: string[] = []
            for (const key of w.dels) if (await db.get(key) !== undefined) dels.push(key)
            await db.batch((batch) => {
              for (const [key, value] of w.puts) batch.put({ _id: key, ...value })
              for (const key of dels) batch.del(key)
            })
          } else if (w.kind === 'sync') await synced(onA, onB)
          else await reopen()
        }
        if (restart) {
          await onA.close()
          await a.close()
          a = await createDidbase({ directory, identity })
          await connect(b, a)
          onA = await a.documents(name, { writers: [a.user, b.user], indexes: INDEXES })
        }
        await synced(onA, onB)
        for (const q of queries) {
          await check(onA, q)
          await check(onB, q)
        }
        await onA.close()
        await onB.close()
      }), { numRuns: Number(process.env.DIDBASE_QUERY_RUNS ?? 12) })
    } finally {
      await a.close()
    }
    // Every way of answering was compared, not only the scan.
    expect([...strategies.keys()].sort()).toEqual(['index-order', 'index-range', 'scan'])
  }, 600_000)
})
