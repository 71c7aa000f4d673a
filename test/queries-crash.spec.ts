/**
 * A crash in the middle of index updates loses nothing: a writer process is killed (SIGKILL)
 * while it rewrites index rows, and the database reopened from its files answers every
 * query exactly as a plain scan of its records does, after rebuilding the rows the crash
 * may have left behind (reported by `index:progress`).
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createDidbase } from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { answer, type OracleQuery } from './src/query-oracle.js'
import { collect, tempDir } from './src/peers.js'

const script = fileURLToPath(new URL('./fixtures/indexed-writer-process.js', import.meta.url))

const QUERIES: OracleQuery[] = [
  { where: {}, sort: [['value.n', 'asc']] },
  { where: { 'value.n': { gte: 5, lt: 15 } }, sort: [['value.n', 'desc']], limit: 6 },
  { where: { 'value.tag': 'even' }, sort: [['value.n', 'asc']], limit: 4 },
  { where: { 'value.tag': 'x', 'value.n': { gt: 10 } }, sort: [] }
]

describe('indexes after a crash', () => {
  it('are rebuilt where a killed writer left them, and answer as a scan does', async () => {
    const directory = await tempDir()
    const child = spawn(process.execPath, [script, directory], { stdio: ['ignore', 'pipe', 'inherit'] })
    const lines = createInterface({ input: child.stdout })
    let address = ''
    for await (const line of lines) {
      const message = JSON.parse(line) as { address?: string, written?: number }
      if (message.address !== undefined) address = message.address
      if ((message.written ?? 0) >= 300) break
    }
    child.kill('SIGKILL')
    await once(child, 'exit')

    const node = await createDidbase({ directory, listen: [] })
    try {
      // Indexes start at the first query (or write), after this listener is in place.
      const docs = await node.documents<Record<string, unknown>>(address, { indexes: [['value.n'], ['value.tag', 'value.n']] })
      const progress: number[] = []
      docs.addEventListener('index:progress', (e) => { progress.push(e.detail.total) })
      const records = await collect(docs.entries())
      expect(records.length).toBeGreaterThan(0)
      for (const q of QUERIES) {
        expect(docs.explain({ where: q.where as never, sort: q.sort as never }).strategy).not.toBe('scan')
        const expected = answer(records, q).slice(0, q.limit).map((r) => `${r.key}@${r.hash}`)
        const page = await docs.find({ where: q.where as never, sort: q.sort as never, ...(q.limit !== undefined ? { limit: q.limit } : {}) })
        expect(page.records.map((r) => `${r.key}@${r.hash}`), JSON.stringify(q)).toEqual(expected)
        expect(await docs.count(q.where as never)).toBe(answer(records, q).length)
      }
      // No clean mark: the rows were compared with the records, index by index.
      expect(progress.length).toBeGreaterThan(0)
    } finally {
      await node.close()
    }
  })
})
