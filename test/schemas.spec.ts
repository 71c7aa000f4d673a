/**
 * Schemas in databases, between real replicas: the schema CID is part of the address, local
 * writes that do not match throw before anything is signed, and a replica that knows only
 * the address fetches the schema by CID and rejects entries that do not match it.
 */
import { createDidKeyIdentity } from '@didbase/access'
import { defineSchema, type Infer, type RejectedDetail, s, schemaFromDSL } from '@didbase/sdk'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { craftEntry, push } from './src/attacker.js'
import { collect, connect, nextEvent, peer, waitFor } from './src/peers.js'

const todo = defineSchema('Todo', s.struct({ title: s.string(), done: s.bool(), tags: s.optional(s.list(s.string())) }))

describe('schemas in databases', () => {
  it('refuses a local write that does not match, before signing, and types what it reads', async () => {
    const p = await peer({ memory: true })
    const todos = await p.keyValue('todos', { schema: todo })
    await todos.put('a', { title: 'write docs', done: false })
    await expect(todos.put('b', { title: 'bad', done: false, tags: ['x', 'y', 3] } as never))
      .rejects.toMatchObject({ name: 'SchemaValidationError', path: '/tags/2', message: '/tags/2: expected String, got Int' })
    await expect(todos.put('c', { title: 'x'.repeat(70_000), done: true })).rejects.toMatchObject({ name: 'SchemaValidationError', path: '/' })
    expect(await todos.size()).toBe(1)
    const value = await todos.get('a')
    expectTypeOf(value).toEqualTypeOf<{ title: string, done: boolean, tags?: string[] } | undefined>()
    expect(value).toEqual({ title: 'write docs', done: false })

    const docs = await p.documents('docs', { schema: defineSchema('Doc', s.struct({ _id: s.string(), n: s.int() })) })
    await docs.put({ _id: 'x', n: 1 })
    await expect(docs.put({ _id: 'y', n: 'one' } as never)).rejects.toMatchObject({ name: 'SchemaValidationError', path: '/n' })
    const log = await p.eventLog('log', { schema: schemaFromDSL<string>('type Line string', 'Line') })
    await log.add('fine')
    await expect(log.add(42 as never)).rejects.toMatchObject({ name: 'SchemaValidationError', path: '/' })
  })

  it('commits the address to the schema', async () => {
    // One user, two nodes: the same name with and without a schema makes two addresses.
    const identity = createDidKeyIdentity()
    const p = await peer({ memory: true, identity })
    const plain = await p.keyValue('same-name')
    const typed = await (await peer({ memory: true, identity })).keyValue('same-name', { schema: todo })
    expect(typed.address).not.toBe(plain.address)
    expect((await typed.schema?.cid())?.toString()).toBe((await todo.cid()).toString())
    // On one node the name already opens the plain one: asking it for a schema is a contradiction.
    await expect(p.keyValue('same-name', { schema: todo })).rejects.toMatchObject({ name: 'NameTakenError', address: plain.address })
  })

  it('a replica that knows only the address enforces the schema it fetched by CID', async () => {
    const owner = await peer()
    const replica = await peer()
    const attacker = await peer()
    await connect(replica, owner)
    await connect(attacker, replica)
    // Anyone may write, so the schema is the only thing that can refuse an entry.
    const db = await owner.keyValue('open-todos', { schema: todo, writers: ['*'] })
    await db.put('a', { title: 'honest', done: false })
    // Opening with the schema checks that the database has that schema, and types the handle.
    await expect(replica.keyValue(db.address, { schema: defineSchema('Todo', s.struct({ title: s.string() })) })).rejects.toMatchObject({ name: 'WrongDatabaseTypeError' })
    const onReplica = await replica.keyValue(db.address, { schema: todo })
    expectTypeOf(onReplica.get).returns.resolves.toEqualTypeOf<Infer<typeof todo> | undefined>()
    await waitFor(async () => (await onReplica.get('a'))?.title === 'honest', 'the honest value on the replica')
    expect((await onReplica.schema?.cid())?.toString()).toBe((await todo.cid()).toString())
    await attacker.keyValue(db.address)

    const before = await collect(onReplica.entries())
    const stranger = createDidKeyIdentity()
    const entry = await craftEntry({ address: db.address, payload: { op: 'PUT', key: 'a', value: { title: 7, done: false } }, signer: stranger })
    const rejected = nextEvent<RejectedDetail>(onReplica, 'entry:rejected', 'the invalid value to be rejected', (d) => d.hash === entry.hash)
    await push(attacker, replica, db.address, entry.bytes)
    const detail = await rejected
    expect(detail).toMatchObject({ did: stranger.did, reason: 'schema-mismatch' })
    expect(detail.message).toContain('/title: expected String, got Int')
    expect(await collect(onReplica.entries())).toEqual(before)

    // A valid entry from the same stranger is accepted: only the value was wrong.
    const valid = await craftEntry({ address: db.address, payload: { op: 'PUT', key: 'b', value: { title: 'ok', done: true } }, signer: stranger })
    await push(attacker, replica, db.address, valid.bytes)
    await waitFor(async () => (await onReplica.get('b'))?.title === 'ok', 'the valid entry on the replica')
  })

  it('evolves: after a founder moves to v2, new writes must match v2 everywhere and old values can be upgraded on read', async () => {
    const v1 = defineSchema('Todo', s.struct({ title: s.string() }))
    const v2 = defineSchema('Todo', s.struct({ title: s.string(), done: s.bool() }))
    const owner = await peer()
    const writerKey = createDidKeyIdentity()
    const writer = await peer({ identity: writerKey })
    const replica = await peer()
    const attacker = await peer()
    await connect(writer, owner)
    await connect(replica, owner)
    await connect(attacker, replica)
    const db = await owner.keyValue('evolving', { schema: v1, acl: true })
    await db.grant('writer', writer.did)
    const onWriter = await writer.keyValue<{ title: string, done?: boolean }>(db.address)
    await waitFor(async () => onWriter.canWrite(), 'the grant on the writer')
    await onWriter.put('old', { title: 'written under v1' })

    const change = await db.setSchema(v2)
    await waitFor(async () => (await onWriter.heads()).includes(change), 'the schema change on the writer')
    expect((await (await onWriter.currentSchema())?.cid())?.toString()).toBe((await v2.cid()).toString())
    await expect(onWriter.put('new', { title: 'v1 shape' })).rejects.toMatchObject({ name: 'SchemaValidationError', path: '/done' })
    await onWriter.put('new', { title: 'v2 shape', done: false })

    const onReplica = await replica.keyValue<{ title: string, done?: boolean }>(db.address)
    await waitFor(async () => (await onReplica.get('new'))?.done === false, 'the v2 write on the replica')
    await attacker.keyValue(db.address)
    const before = await collect(onReplica.entries())
    const stale = await craftEntry({ address: db.address, payload: { op: 'PUT', key: 'sneaky', value: { title: 'v1 shape' } }, signer: writerKey, next: await onReplica.heads() })
    const rejected = nextEvent<RejectedDetail>(onReplica, 'entry:rejected', 'the v1-shaped entry after the change', (d) => d.hash === stale.hash)
    await push(attacker, replica, db.address, stale.bytes)
    expect(await rejected).toMatchObject({ reason: 'schema-mismatch', did: writer.did })
    expect(await collect(onReplica.entries())).toEqual(before)

    // Reading: values written under v1 stay as they were; upgrade them with the current schema.
    const current = await onReplica.currentSchema()
    const upgraded = (await collect(onReplica.entries())).map(({ key, value }) => [key, current?.is(value) ? value : { ...value, done: false }])
    expect(Object.fromEntries(upgraded)).toEqual({ old: { title: 'written under v1', done: false }, new: { title: 'v2 shape', done: false } })
  })
})
