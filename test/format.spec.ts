/**
 * Format compatibility: `test/fixtures/format-1` is a data directory written by the
 * version before the restructure (commit 088a508, by `test/fixtures/make-format-fixture.js`),
 * holding a key-value database with an ACL, ownership, a schema and a deletion, a document
 * database with two writers, and an event log. Today's code opens it, reads the same
 * records and heads (so entries hash alike), writes to it, and replicates it to a fresh
 * replica. Every later format change must keep this test passing.
 *
 * `test/fixtures/format-2` holds private databases (fixed writers and readers) written by the
 * version before key epochs (commit cd0aba4, by `test/fixtures/make-private-fixture.js`):
 * the creator reads them back and writes to them, and its reader, on a fresh replica,
 * replicates and reads them.
 */
import { cp, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDidKeyIdentity } from '@didbase/access'
import type { AnyDatabase } from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { connect, peer, tempDir, waitFor } from './src/peers.js'

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}/`, import.meta.url))

interface Expected {
  did: string
  bob: string
  databases: Array<{ type: string, address: string, heads: string[], size: number, roles?: unknown, records: unknown[] }>
}

async function records (db: AnyDatabase): Promise<unknown[]> {
  const rows: unknown[] = []
  for await (const row of db.entries()) rows.push(row)
  return rows
}

async function fixtureNode (name = 'format-1'): Promise<{ expected: Expected, node: Awaited<ReturnType<typeof peer>> }> {
  const expected = JSON.parse(await readFile(join(fixture(name), 'expected.json'), 'utf8')) as Expected
  // A copy: opening a LevelDB writes to it, and the fixture must stay as it was written.
  const directory = join(await tempDir(), 'data')
  await cp(join(fixture(name), 'data'), directory, { recursive: true })
  return { expected, node: await peer({ directory }) }
}

describe('a data directory written by the previous version', () => {
  it('opens with the same identity and reads the same records, heads and roles', async () => {
    const { expected, node } = await fixtureNode()
    expect(node.did).toBe(expected.did)
    for (const want of expected.databases) {
      const db = await node.open(want.address)
      expect(db.type).toBe(want.type)
      expect(await db.heads()).toEqual(want.heads)
      expect(await db.size()).toBe(want.size)
      expect(await records(db)).toEqual(want.records)
      if (want.roles !== undefined) expect(await db.roles()).toEqual(want.roles)
    }
  })

  it('takes new writes under its old policy and schema', async () => {
    const { expected, node } = await fixtureNode()
    const todos = await node.keyValue<{ title: string, done: boolean }>(expected.databases[0]!.address)
    await todos.put('eggs', { title: 'Buy eggs', done: false })
    expect(await todos.get('eggs')).toEqual({ title: 'Buy eggs', done: false })
    await expect(todos.put('bad', { title: 42 } as never)).rejects.toMatchObject({ name: 'SchemaValidationError' })
    expect(await todos.get('bread')).toBeUndefined()
  })

  it('replicates to a fresh replica, which reaches the same heads and records', async () => {
    const { expected, node } = await fixtureNode()
    const opened = await Promise.all(expected.databases.map(async (want) => node.open(want.address)))
    const fresh = await peer({ memory: true })
    await connect(fresh, node)
    for (const [i, want] of expected.databases.entries()) {
      const replica = await fresh.open(want.address)
      await waitFor(async () => JSON.stringify(await replica.heads()) === JSON.stringify(want.heads), `${want.type} heads on the fresh replica`)
      expect(await records(replica)).toEqual(want.records)
      expect(await replica.size()).toBe(await opened[i]!.size())
    }
  })
})

describe('private databases written by the version before key epochs', () => {
  it('the creator reads the same records and heads, and writes under the old key', async () => {
    const { expected, node } = await fixtureNode('format-2')
    expect(node.did).toBe(expected.did)
    for (const want of expected.databases) {
      const db = await node.open(want.address)
      expect(db.private).toBe(true)
      expect(db.genesis.readers).toEqual([expected.bob])
      expect(await db.heads()).toEqual(want.heads)
      expect(await records(db)).toEqual(want.records)
    }
    const todos = await node.keyValue<{ title: string, done: boolean }>(expected.databases[0]!.address)
    await todos.put('eggs', { title: 'Buy eggs', done: false })
    expect(await todos.get('eggs')).toEqual({ title: 'Buy eggs', done: false })
    expect(await todos.get('bread')).toBeUndefined()
  })

  it('replicates to its reader on a fresh replica, which reads every record', async () => {
    const { expected, node } = await fixtureNode('format-2')
    await Promise.all(expected.databases.map(async (want) => node.open(want.address)))
    const bob = await peer({ memory: true, identity: createDidKeyIdentity({ seed: new Uint8Array(32).fill(9) }) })
    expect(bob.did).toBe(expected.bob)
    await connect(bob, node)
    for (const want of expected.databases) {
      const replica = await bob.open(want.address)
      await waitFor(async () => JSON.stringify(await replica.heads()) === JSON.stringify(want.heads), `${want.type} heads on Bob's replica`)
      expect(await records(replica)).toEqual(want.records)
    }
  })
})
