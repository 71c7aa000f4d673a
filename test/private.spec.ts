/**
 * Private databases with a fixed set of writers and readers: real replicas over loopback,
 * a replicator that is not a member, and entries pushed straight to a replica.
 */
import { createDidKeyIdentity, type DidKeyIdentity, type PrivateField } from '@didbase/access'
import { blindKey, openDatabaseKeys, seal } from '@didbase/access/internal'
import { defineSchema, type RejectedDetail, s, type UnreadableDetail } from '@didbase/sdk'
import * as dagCbor from '@ipld/dag-cbor'
import type { Database, LogEntry } from '@orbitdb/core'
import { describe, expect, it } from 'vitest'
import { craftEntry, push } from './src/attacker.js'
import { bytesUnder, collect, connect, nextEvent, peer, tempDir, waitFor } from './src/peers.js'

const todo = defineSchema('Todo', s.struct({ title: s.string(), done: s.bool() }))
type Todo = { title: string, done: boolean }

/** The raw OrbitDB database behind a handle: what an attacker holding the replica would read. */
const raw = (handle: unknown): Database => (handle as { db: Database }).db

async function members (): Promise<{ alice: Awaited<ReturnType<typeof peer>>, bob: Awaited<ReturnType<typeof peer>>, aliceKey: DidKeyIdentity, carolKey: DidKeyIdentity, carol: Awaited<ReturnType<typeof peer>> }> {
  const aliceKey = createDidKeyIdentity()
  const carolKey = createDidKeyIdentity()
  const alice = await peer({ identity: aliceKey })
  const carol = await peer({ identity: carolKey })
  const bob = await peer()
  return { alice, bob, carol, aliceKey, carolKey }
}

describe('private database (fixed writers and readers)', () => {
  it('members read each other\'s values; a replicator that is not a member holds and serves everything and learns no value or record key', async () => {
    const { alice, bob, carol } = await members()
    const replicatorDir = await tempDir()
    const replicator = await peer({ directory: replicatorDir })
    const todos = await alice.keyValue('secret-todos', { schema: todo, private: true, writers: [alice.did, carol.did], readers: [bob.did] })
    expect(todos.private).toBe(true)
    expect(todos.genesis.readers).toEqual([bob.did])
    await todos.put('MARKER-KEY-milk', { title: 'MARKER-VALUE-milk', done: false })
    // The control: a plain database's values are found by the same scan.
    const open = await alice.keyValue<string>('public')
    await open.put('PLAIN-MARKER-key', 'PLAIN-MARKER-value')

    // The replicator syncs from Alice, then goes on serving while Alice is gone.
    await connect(replicator, alice)
    const held = await replicator.keyValue(todos.address)
    await waitFor(async () => JSON.stringify(await held.heads()) === JSON.stringify(await todos.heads()), 'the replicator to hold Alice\'s heads')
    const heldOpen = await replicator.keyValue<string>(open.address)
    await waitFor(async () => (await heldOpen.get('PLAIN-MARKER-key')) === 'PLAIN-MARKER-value', 'the replicator to hold the plain database')
    await expect(held.get('MARKER-KEY-milk')).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-a-reader' })
    await alice.close()

    await connect(carol, replicator)
    const carolTodos = await carol.keyValue<Todo>(todos.address)
    await waitFor(async () => (await carolTodos.get('MARKER-KEY-milk'))?.title === 'MARKER-VALUE-milk', 'Carol to read Alice\'s value through the replicator')
    await carolTodos.put('MARKER-KEY-bread', { title: 'MARKER-VALUE-bread', done: true })

    await connect(bob, replicator)
    const bobTodos = await bob.keyValue<Todo>(todos.address)
    await waitFor(async () => (await collect(bobTodos.entries())).length === 2, 'Bob to read both values')
    expect((await collect(bobTodos.entries())).map((r) => [r.key, r.value.title, r.writer]).sort()).toEqual([
      ['MARKER-KEY-bread', 'MARKER-VALUE-bread', carol.did],
      ['MARKER-KEY-milk', 'MARKER-VALUE-milk', todos.genesis.writers.find((w) => w !== carol.did)]
    ])
    // Readers read, and only read.
    await expect(bobTodos.put('MARKER-KEY-beer', { title: 'beer', done: false })).rejects.toMatchObject({ name: 'AccessDeniedError' })

    await waitFor(async () => (await held.size()) === 2, 'the replicator to hold Carol\'s write too')
    await replicator.close()
    const stored = await bytesUnder(replicatorDir)
    expect(stored.some((bytes) => bytes.includes('PLAIN-MARKER-value'))).toBe(true)
    for (const bytes of stored) {
      expect(bytes.includes('MARKER-KEY')).toBe(false)
      expect(bytes.includes('MARKER-VALUE')).toBe(false)
    }
  })

  it('a reader\'s entry pushed straight to a replica is rejected there, and nothing changes', async () => {
    const alice = await peer()
    const bobKey = createDidKeyIdentity()
    const reader = await peer({ identity: bobKey })
    const todos = await alice.keyValue('secret', { private: true, readers: [bobKey.did] })
    await todos.put('milk', 'buy milk')
    await connect(reader, alice)
    await reader.keyValue(todos.address)
    const entry = await craftEntry({ address: todos.address, payload: { op: 'PUT', key: 'x', value: 'y' }, signer: bobKey })
    const rejected = nextEvent<RejectedDetail>(todos, 'entry:rejected', 'the reader\'s entry to be rejected', (d) => d.hash === entry.hash)
    await push(reader, alice, todos.address, entry.bytes)
    expect(await rejected).toMatchObject({ did: bobKey.did, reason: 'not-a-writer' })
    expect(await todos.size()).toBe(1)
    expect(await todos.get('milk')).toBe('buy milk')
  })

  it('a sealed value moved to another record, and one that breaks the schema, are hidden on every member and reported alike', async () => {
    const { alice, bob, carol, carolKey } = await members()
    const todos = await alice.keyValue<Todo>('moved', { schema: todo, private: true, writers: [alice.did, carol.did], readers: [bob.did] })
    await todos.put('milk', { title: 'Buy milk', done: false })
    await connect(carol, alice)
    const carolTodos = await carol.keyValue<Todo>(todos.address)
    await waitFor(async () => (await carolTodos.get('milk')) !== undefined, 'Carol to have milk')
    const breadHash = await carolTodos.put('bread', { title: 'Buy bread', done: false })
    await waitFor(async () => (await todos.get('bread')) !== undefined, 'Alice to have bread')

    // Carol, a writer, can blind and seal like any member.
    const privacy = (raw(carolTodos).access as unknown as { privacy: PrivateField }).privacy
    const keys = await openDatabaseKeys(privacy, carolKey)
    // She signs bread's sealed value under milk's blinded key...
    const breadEntry = (await raw(carolTodos).log.get(breadHash)) as LogEntry
    const moved = await craftEntry({ address: todos.address, payload: { op: 'PUT', key: blindKey(keys.blinding, 'milk'), value: (breadEntry.payload as { value: unknown }).value }, signer: carolKey, next: [breadHash] })
    // ...and seals a value that does not fit the schema.
    const eggs = blindKey(keys.blinding, 'eggs')
    const sealed = seal(keys.sealing, dagCbor.encode({ key: 'eggs', value: { title: 42, done: 'no' } }), { address: todos.address, epoch: 0, record: eggs })
    const bad = await craftEntry({ address: todos.address, payload: { op: 'PUT', key: eggs, value: { v: 1, ...sealed } }, signer: carolKey, next: [moved.hash] })

    await push(carol, alice, todos.address, moved.bytes)
    await push(carol, alice, todos.address, bad.bytes)
    // Accepted: no replica needs the key to judge them.
    await waitFor(async () => (await todos.size()) === 4, 'Alice to take both entries')

    await connect(bob, alice)
    const bobTodos = await bob.keyValue<Todo>(todos.address)
    await waitFor(async () => (await bobTodos.size()) === 4, 'Bob to hold all four entries')
    for (const member of [todos, bobTodos]) {
      const seen: UnreadableDetail[] = []
      member.addEventListener('entry:unreadable', (e) => { seen.push(e.detail) })
      expect(await member.get('milk')).toBeUndefined()
      expect(await member.get('eggs')).toBeUndefined()
      expect((await collect(member.entries())).map((r) => r.key)).toEqual(['bread'])
      expect(seen.map((d) => [d.hash, d.reason])).toEqual(expect.arrayContaining([[moved.hash, 'undecryptable'], [bad.hash, 'schema-mismatch']]))
    }
  })

  it('documents and event logs are private too, and a member reads them back after a restart', async () => {
    const directory = await tempDir()
    const alice = await peer({ directory })
    const notes = await alice.documents<{ _id: string, text: string }>('notes', { private: true })
    await notes.put({ _id: 'n1', text: 'first note' })
    const journal = await alice.eventLog<string>('journal', { private: true })
    await journal.add('dear diary')
    const addresses = [notes.address, journal.address]
    await alice.close()
    const again = await peer({ directory })
    const reopenedNotes = await again.documents<{ _id: string, text: string }>(addresses[0]!)
    expect(await reopenedNotes.get('n1')).toEqual({ _id: 'n1', text: 'first note' })
    expect((await collect((await again.eventLog<string>(addresses[1]!)).entries())).map((e) => e.value)).toEqual(['dear diary'])
  })

  it('ownership works on blinded keys: another writer is refused on a record it did not create, and keeps its own', async () => {
    const { alice, carol } = await members()
    const todos = await alice.keyValue<string>('owned', { private: true, ownership: true, writers: [alice.did, carol.did] })
    await todos.put('milk', 'alice\'s milk')
    await connect(carol, alice)
    const carolTodos = await carol.keyValue<string>(todos.address)
    await waitFor(async () => (await carolTodos.get('milk')) !== undefined, 'Carol to have milk')
    await expect(carolTodos.put('milk', 'carol\'s milk')).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-the-owner' })
    await carolTodos.put('bread', 'carol\'s bread')
    await waitFor(async () => (await todos.get('bread')) === 'carol\'s bread', 'Alice to have Carol\'s own record')
    expect(await todos.get('milk')).toBe('alice\'s milk')
  })

  it('hostile sealed values from a writer (nested 3,000 deep, or with no value) are hidden and reported, whatever stack the member has', async () => {
    const { alice, carol, carolKey } = await members()
    const todos = await alice.keyValue<unknown>('hostile', { private: true, writers: [alice.did, carol.did] })
    await todos.put('ok', 'fine')
    await connect(carol, alice)
    const carolTodos = await carol.keyValue<unknown>(todos.address)
    await waitFor(async () => (await carolTodos.get('ok')) === 'fine', 'Carol to have ok')
    const keys = await openDatabaseKeys((raw(carolTodos).access as unknown as { privacy: PrivateField }).privacy, carolKey)
    // { key: 'deep', value: [[[…1…]]] } 3000 deep, written by hand: no encoder would recurse that far.
    const text = (t: string): number[] => [0x60 + t.length, ...new TextEncoder().encode(t)]
    const deepBytes = Uint8Array.from([0xa2, ...text('key'), ...text('deep'), ...text('value'), ...Array(3000).fill(0x81), 0x01])
    const plains: Array<[string, Uint8Array]> = [
      ['deep', deepBytes],
      ['empty', dagCbor.encode({ key: 'empty' })]
    ]
    let next = [(await raw(carolTodos).log.heads())[0]!.hash]
    const hashes: string[] = []
    for (const [key, plain] of plains) {
      const blinded = blindKey(keys.blinding, key)
      const sealed = seal(keys.sealing, plain, { address: todos.address, epoch: 0, record: blinded })
      const entry = await craftEntry({ address: todos.address, payload: { op: 'PUT', key: blinded, value: { v: 1, ...sealed } }, signer: carolKey, next })
      next = [entry.hash]
      hashes.push(entry.hash)
      await push(carol, alice, todos.address, entry.bytes)
    }
    await waitFor(async () => (await todos.size()) === 3, 'Alice to take both entries')
    const seen: UnreadableDetail[] = []
    todos.addEventListener('entry:unreadable', (e) => { seen.push(e.detail) })
    expect(await todos.get('deep')).toBeUndefined()
    expect(await todos.get('empty')).toBeUndefined()
    expect((await collect(todos.entries())).map((r) => r.key)).toEqual(['ok'])
    expect(new Set(seen.map((d) => d.hash))).toEqual(new Set(hashes))
    expect(seen.find((d) => d.hash === hashes[0])?.message).toContain('nested more than')
  })

  it('asking for privacy when opening an address that is not private fails, and nothing is written in clear', async () => {
    const alice = await peer({ memory: true })
    const open = await alice.keyValue<string>('public')
    await expect(alice.keyValue(open.address, { private: true })).rejects.toMatchObject({ name: 'WrongDatabaseTypeError' })
    expect(await open.size()).toBe(0)
    const secret = await alice.keyValue<string>('secret', { private: true, readers: [createDidKeyIdentity().did] })
    await expect(alice.keyValue(secret.address, { private: true, readers: [createDidKeyIdentity().did] })).rejects.toMatchObject({ name: 'WrongDatabaseTypeError' })
  })

  it('a non-member is refused even before the database holds anything, and a writer\'s value that cannot be stored is refused locally', async () => {
    const alice = await peer()
    const stranger = await peer()
    const todos = await alice.keyValue<unknown>('empty-secret', { private: true })
    await connect(stranger, alice)
    const held = await stranger.keyValue(todos.address)
    await expect(collect(held.entries())).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-a-reader' })
    const log = await alice.eventLog<unknown>('empty-journal', { private: true })
    const heldLog = await stranger.eventLog(log.address)
    await expect(collect(heldLog.entries())).rejects.toMatchObject({ reason: 'not-a-reader' })
    let deep: unknown = 1
    for (let i = 0; i < 300; i++) deep = [deep]
    await expect(todos.put('deep', deep)).rejects.toMatchObject({ name: 'InvalidValueError' })
    await expect(todos.put('undef', { a: undefined })).rejects.toMatchObject({ name: 'InvalidValueError' })
    expect(await todos.size()).toBe(0)
  })

  it('refuses what it cannot keep private: anyone as a writer, readers without private', async () => {
    const alice = await peer({ memory: true })
    await expect(alice.keyValue('b', { private: true, writers: ['*'] })).rejects.toMatchObject({ name: 'InvalidPolicyError' })
    await expect(alice.keyValue('c', { readers: [alice.did] })).rejects.toMatchObject({ name: 'InvalidPolicyError' })
    // A wallet account has no key agreement key to wrap the first key to: it joins after creation.
    await expect(alice.keyValue('d', { private: true, readers: ['did:pkh:eip155:1:0x1c513cade2d2d41780191a7087f2c5f025eb7a24'] })).rejects.toThrow(/grant or invite a wallet account after creation/)
  })
})
