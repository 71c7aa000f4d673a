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
 *
 * `test/fixtures/format-3` holds what came after (commit eba174f, by
 * `test/fixtures/make-format3-fixture.js`): a private key-value database with an ACL, a
 * granted reader, an invited writer, a device that wrote and was revoked, and a key rotation;
 * a private event log with an ACL and a rotation; a database a wallet session wrote to; and
 * a single 1.5 MiB PUT. The creator reads every database back (heads, size, roles and
 * records) and still writes to the private ones. The reader, on a fresh replica, replicates
 * each database and reads what the creator reads, the new writes included.
 */
import { createHash } from 'node:crypto'
import { cp, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDidKeyIdentity } from '@didbase/access'
import type { AnyDatabase, DidbaseInit } from '@didbase/sdk'
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

async function fixtureNode<E = Expected> (name = 'format-1', init: DidbaseInit = {}): Promise<{ expected: E, node: Awaited<ReturnType<typeof peer>> }> {
  const expected = JSON.parse(await readFile(join(fixture(name), 'expected.json'), 'utf8')) as E
  // A copy: opening a LevelDB writes to it, and the fixture must stay as it was written.
  const directory = join(await tempDir(), 'data')
  await cp(join(fixture(name), 'data'), directory, { recursive: true })
  return { expected, node: await peer({ directory, ...init }) }
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
    const todos = await node.keyValue<{ title: string, done: boolean }>(expected.databases[0]!.address, { indexes: [['value.done', 'time']] })
    await todos.put('eggs', { title: 'Buy eggs', done: false })
    expect(await todos.get('eggs')).toEqual({ title: 'Buy eggs', done: false })
    await expect(todos.put('bad', { title: 42 } as never)).rejects.toMatchObject({ name: 'SchemaValidationError' })
    expect(await todos.get('bread')).toBeUndefined()
    // Queries read the old records too: written before every write was dated, they have no
    // time, and sort after the dated ones, newest first.
    await todos.put('bread', { title: 'Buy bread', done: true })
    const old = (expected.databases[0]!.records as Array<{ key: string }>).map((r) => r.key)
    expect(old).toEqual(['milk'])
    const query = { where: { 'value.done': true }, sort: [['time', 'desc']] as const }
    expect(todos.explain(query).strategy).toBe('index-order')
    expect((await todos.find(query)).records.map((r) => [r.key, typeof r.time])).toEqual([['bread', 'number'], ['milk', 'undefined']])
    expect(await todos.count({ time: { exists: false } })).toBe(expected.databases[0]!.records.length)
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

interface Expected3 {
  did: string
  bob: string
  carol: string
  phone: string
  wallet: string
  session: string
  databases: Array<{ type: string, address: string, heads: string[], size: number, roles: unknown, records: Array<{ key?: string, hash: string }> }>
}

/** The actors of format-3, from the seeds its script used. */
const seeded = (n: number) => createDidKeyIdentity({ seed: new Uint8Array(32).fill(n) })
const format3 = { alice: seeded(21), bob: seeded(22) }

/**
 * Records as format-3's expected.json keeps them: a string value over 4 KiB by its digest
 * and length, and no `time` (read since). That version dated only what a delegated key
 * signed, so a record has a time exactly when its entry's signer is not its writer.
 */
async function summaries (db: AnyDatabase): Promise<unknown[]> {
  const rows: unknown[] = []
  for (const row of await records(db)) {
    const { time, ...rest } = row as { value: unknown, hash: string, writer: string, time?: number }
    expect(time !== undefined).toBe(await db.signerOf(rest.hash) !== rest.writer)
    const { value } = rest
    rows.push(typeof value !== 'string' || value.length <= 4096 ? rest : { ...rest, value: { sha256: createHash('sha256').update(value).digest('hex'), length: value.length } })
  }
  return rows
}

describe('format-3: private databases with an ACL (epochs, an invite, a device), a wallet session and a 1.5 MiB PUT, written at eba174f', () => {
  it('the creator reads the same heads, size, roles and records, and who signed them', async () => {
    const { expected, node } = await fixtureNode<Expected3>('format-3', { identity: format3.alice })
    expect(node.did).toBe(expected.did)
    const opened: AnyDatabase[] = []
    for (const want of expected.databases) {
      const db = await node.open(want.address)
      opened.push(db)
      expect(db.type).toBe(want.type)
      expect(await db.heads()).toEqual(want.heads)
      expect(await db.size()).toBe(want.size)
      expect(await db.roles()).toEqual(want.roles)
      expect(await summaries(db)).toEqual(want.records)
    }
    // The phone and the wallet's session signed for their users: records name the users, entries the keys.
    const hashOf = (i: number, key: string): string => expected.databases[i]!.records.find((r) => r.key === key)!.hash
    expect(await opened[0]!.signerOf(hashOf(0, 'phone'))).toBe(expected.phone)
    expect(await opened[2]!.signerOf(hashOf(2, 'wallet'))).toBe(expected.session)
  })

  it('replicates to the reader on a fresh replica, which reaches the same heads and reads the same records', async () => {
    const { expected, node } = await fixtureNode<Expected3>('format-3', { identity: format3.alice })
    await Promise.all(expected.databases.map(async (want) => node.open(want.address)))
    const bob = await peer({ memory: true, identity: format3.bob })
    expect(bob.did).toBe(expected.bob)
    await connect(bob, node)
    for (const want of expected.databases) {
      const replica = await bob.open(want.address)
      await waitFor(async () => JSON.stringify(await replica.heads()) === JSON.stringify(want.heads), `${want.address} heads on Bob's replica`)
      expect(await replica.size()).toBe(want.size)
      expect(await replica.roles()).toEqual(want.roles)
      expect(await summaries(replica)).toEqual(want.records)
    }
  })

  it('the creator still writes to the private databases, and the reader reads what it writes', async () => {
    const { expected, node } = await fixtureNode<Expected3>('format-3', { identity: format3.alice })
    const [teamWant, journalWant] = expected.databases
    const team = await node.keyValue<string>(teamWant!.address)
    const journal = await node.eventLog<string>(journalWant!.address)
    await team.put('plan', 'ship on Tuesday')
    await journal.add('after the upgrade')
    expect(await team.get('plan')).toBe('ship on Tuesday')
    expect(await team.get('carol')).toBe('written by Carol after the rotations')
    const bob = await peer({ memory: true, identity: format3.bob })
    await connect(bob, node)
    const bobTeam = await bob.keyValue<string>(teamWant!.address)
    const bobJournal = await bob.eventLog<string>(journalWant!.address)
    await waitFor(async () => (await bobTeam.get('plan').catch((err: { reason?: string }) => { if (err.reason !== 'not-a-reader') throw err })) === 'ship on Tuesday', 'Bob to read Alice\'s new write')
    expect(await bobTeam.get('phone')).toBe('written on Alice\'s phone')
    await waitFor(async () => JSON.stringify(await bobJournal.heads()) === JSON.stringify(await journal.heads()), 'Bob to hold the journal')
    expect((await records(bobJournal)).map((r) => (r as { value: unknown }).value)).toEqual(['after the upgrade', ...journalWant!.records.map((r) => (r as { value?: unknown }).value)])
  })
})
