/**
 * Group commit and atomic batches, end to end: writes issued together share signed
 * entries and each still succeeds or fails alone; `db.batch` is all or nothing; replicas
 * read batches in their order and refuse hostile ones; private databases and delegated
 * keys write batches like any entry.
 */
import { createDidKeyIdentity, defineSchema, delegatedIdentity, delegateDevice, MAX_BATCH_OPS, type RejectedDetail, s, type UpdateDetail } from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { craftEntry, push } from './src/attacker.js'
import { collect, connect, nextEvent, peer, waitFor } from './src/peers.js'

const Value = defineSchema('Value', s.struct({ n: s.int() }))

/** What each promise settled with, in the order they settled. */
async function settleAll<T> (writes: Array<Promise<T>>): Promise<{ order: number[], results: Array<T | string> }> {
  const order: number[] = []
  const results = await Promise.all(writes.map(async (w, i) => w.then((v) => {
    order.push(i)
    return v
  }, (err: Error) => {
    order.push(i)
    return err.name
  })))
  return { order, results }
}

describe('group commit', () => {
  it('a burst of 1,000 puts becomes a few entries; each put resolves in order, bad ones fail alone, a replica reads them all', async () => {
    const a = await peer()
    const b = await peer()
    await connect(a, b)
    const kv = await a.keyValue<{ n: number }>('burst', { schema: Value })
    const replica = await b.keyValue<{ n: number }>(kv.address)
    await replica.whenSynced()
    const updates: UpdateDetail[] = []
    replica.addEventListener('update', (e) => { updates.push(e.detail) })

    const bad = new Map<number, unknown>([[300, { n: 'three hundred' }], [700, { n: 7, f: () => 7 }]])
    const { order, results } = await settleAll([...Array(1000).keys()].map(async (i) => kv.put(`k${i}`, (bad.get(i) ?? { n: i }) as { n: number })))

    expect(results[300]).toBe('SchemaValidationError')
    expect(results[700]).toBe('InvalidValueError')
    const good = order.filter((i) => !bad.has(i))
    expect(good).toEqual([...good].sort((x, y) => x - y))
    expect(good).toHaveLength(998)
    const entries = await kv.size()
    expect(entries).toBeLessThanOrEqual(10)
    expect(new Set(results.filter((_, i) => !bad.has(i))).size).toBe(entries)

    await waitFor(async () => (await replica.get('k999'))?.n === 999, 'the last put on the replica')
    expect(await replica.get('k300')).toBeUndefined()
    expect(await replica.get('k700')).toBeUndefined()
    const read = await collect(replica.entries())
    expect(read).toHaveLength(998)
    expect(read.every(({ key, value }) => key === `k${value.n}`)).toBe(true)
    // Every operation is announced, those of one entry in their order.
    await waitFor(() => updates.length >= 998, 'an update for every operation')
    const byEntry = new Map<string, UpdateDetail[]>()
    for (const u of updates) byEntry.set(u.hash, [...(byEntry.get(u.hash) ?? []), u])
    for (const announced of byEntry.values()) {
      if (announced.length > 1) expect(announced.map((u) => u.index)).toEqual([...announced.keys()])
    }
  })

  it('writes issued by several callers at once keep each caller\'s order in the event log', async () => {
    const a = await peer()
    const log = await a.eventLog<string>('callers')
    await Promise.all(['x', 'y', 'z'].map(async (caller) => {
      await Promise.all([...Array(50).keys()].map(async (i) => log.add(`${caller}${i}`)))
    }))
    const values = (await collect(log.entries())).map((e) => e.value).reverse()
    expect(values).toHaveLength(150)
    for (const caller of ['x', 'y', 'z']) {
      expect(values.filter((v) => v.startsWith(caller))).toEqual([...Array(50).keys()].map((i) => `${caller}${i}`))
    }
    expect(await log.size()).toBeLessThan(150)
  })
})

describe('atomic batches', () => {
  it('writes puts and deletes in one entry, in their order; a batch with one bad operation writes nothing', async () => {
    const a = await peer()
    const kv = await a.keyValue<{ n: number }>('atomic', { schema: Value })
    await kv.put('old', { n: 0 })
    const hash = await kv.batch((b) => { b.put('x', { n: 1 }).put('y', { n: 2 }).del('old').put('x', { n: 3 }) })
    expect(await kv.size()).toBe(2)
    expect(await kv.get('x')).toEqual({ n: 3 })
    expect(await kv.get('y')).toEqual({ n: 2 })
    expect(await kv.get('old')).toBeUndefined()
    expect(await collect(kv.entries())).toEqual([
      { key: 'x', value: { n: 3 }, hash, writer: a.did, time: expect.any(Number) },
      { key: 'y', value: { n: 2 }, hash, writer: a.did, time: expect.any(Number) }
    ])

    const heads = await kv.heads()
    const failed = kv.batch((b) => { b.put('z', { n: 4 }).put('w', { n: 'four' } as unknown as { n: number }) })
    await expect(failed).rejects.toMatchObject({ name: 'SchemaValidationError', message: expect.stringContaining('operation 1 of the batch') })
    await expect(kv.batch((b) => { b.put('', { n: 1 }) })).rejects.toMatchObject({ name: 'InvalidValueError' })
    await expect(kv.batch(() => {})).rejects.toMatchObject({ name: 'InvalidValueError' })
    expect(await kv.heads()).toEqual(heads)
    expect(await kv.get('z')).toBeUndefined()
  })

  it('refuses a batch over the limits of one entry, and writes nothing', async () => {
    const a = await peer()
    const kv = await a.keyValue<string>('limits')
    await expect(kv.batch((b) => { for (let i = 0; i <= MAX_BATCH_OPS; i++) b.put(`k${i}`, 'v') })).rejects.toMatchObject({ name: 'InvalidValueError', message: expect.stringContaining(`at most ${MAX_BATCH_OPS} operations`) })
    const big = 'x'.repeat(100_000)
    await expect(kv.batch((b) => { for (let i = 0; i < 11; i++) b.put(`k${i}`, big) })).rejects.toMatchObject({ name: 'InvalidValueError', message: expect.stringContaining('bytes') })
    expect(await kv.size()).toBe(0)
    // A burst of the same size is split over several entries instead.
    await Promise.all([...Array(11).keys()].map(async (i) => kv.put(`k${i}`, big)))
    expect(await kv.size()).toBeGreaterThan(1)
    expect(await kv.get('k10')).toBe(big)
  })

  it('documents: a batch may delete what it put; deleting a document that does not exist fails it', async () => {
    const a = await peer()
    const docs = await a.documents<{ _id: string, title: string }>('docs')
    await docs.batch((b) => { b.put({ _id: '1', title: 'one' }).put({ _id: '2', title: 'two' }).del('1') })
    expect(await docs.get('1')).toBeUndefined()
    expect(await docs.get('2')).toEqual({ _id: '2', title: 'two' })
    await expect(docs.batch((b) => { b.put({ _id: '3', title: 'three' }).del('nope') })).rejects.toMatchObject({ name: 'InvalidValueError' })
    expect(await docs.get('3')).toBeUndefined()
    await expect(docs.batch((b) => { b.put({ title: 'no id' } as never) })).rejects.toMatchObject({ name: 'InvalidValueError' })
  })

  it('event logs: a batch\'s events read in their order, here and on a replica', async () => {
    const a = await peer()
    const b = await peer()
    await connect(a, b)
    const log = await a.eventLog<string>('events')
    const hash = await log.batch((batch) => { batch.add('a').add('b').add('c') })
    await log.add('d')
    const read = (await collect(log.entries())).map((e) => [e.value, e.index])
    expect(read).toEqual([['d', undefined], ['c', 2], ['b', 1], ['a', 0]])
    expect(await log.get(hash, 1)).toEqual({ value: 'b', hash, writer: a.did, index: 1, time: expect.any(Number) })
    expect(await log.get(hash, 3)).toBeUndefined()
    const replica = await b.eventLog<string>(log.address)
    await waitFor(async () => (await replica.size()) === 2, 'both entries on the replica')
    expect((await collect(replica.entries())).map((e) => e.value)).toEqual(['d', 'c', 'b', 'a'])
  })

  it('ownership: a batch that touches another\'s record is refused whole; in a burst only that write fails', async () => {
    const a = await peer()
    const b = await peer()
    await connect(a, b)
    const kvA = await a.keyValue<string>('owned', { writers: [a.did, b.did], ownership: true })
    await kvA.put('mine', 'a')
    const kvB = await b.keyValue<string>(kvA.address)
    await waitFor(async () => (await kvB.get('mine')) === 'a', 'a\'s record on b')
    const heads = await kvB.heads()

    await expect(kvB.batch((batch) => { batch.put('free', 'b').put('mine', 'b') })).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-the-owner' })
    expect(await kvB.heads()).toEqual(heads)
    const { results } = await settleAll([kvB.put('free', 'b'), kvB.put('mine', 'b')])
    expect(results[1]).toBe('AccessDeniedError')
    expect(await kvB.get('free')).toBe('b')
    expect(await kvB.get('mine')).toBe('a')
  })

  it('private: a member reads a batch sealed for it', async () => {
    const a = await peer()
    const b = await peer()
    await connect(a, b)
    const kv = await a.keyValue<string>('sealed', { acl: true, private: true, readers: [b.did] })
    await kv.batch((batch) => { batch.put('one', '1').put('two', '2') })
    await Promise.all([kv.put('three', '3'), kv.put('four', '4')])
    const reader = await b.keyValue<string>(kv.address)
    await waitFor(async () => (await reader.get('four')) === '4', 'the burst on the reader')
    expect(Object.fromEntries((await collect(reader.entries())).map((r) => [r.key, r.value]))).toEqual({ one: '1', two: '2', three: '3', four: '4' })
  })

  it('a delegated device writes batches and bursts for its user; a replica accepts them', async () => {
    const root = createDidKeyIdentity()
    const deviceKey = createDidKeyIdentity()
    const a = await peer({ identity: root })
    const kv = await a.keyValue<string>('devices', { acl: true })
    const token = await delegateDevice(root, deviceKey.did, { scope: [kv.address], expiresIn: 3_600_000 })
    const phone = await peer({ identity: await delegatedIdentity(deviceKey, [token]) })
    await connect(phone, a)
    const onPhone = await phone.keyValue<string>(kv.address)
    await onPhone.whenSynced()
    const hash = await onPhone.batch((b) => { b.put('x', '1').put('y', '2') })
    await Promise.all([onPhone.put('z', '3'), onPhone.put('w', '4')])
    await waitFor(async () => (await kv.get('w')) === '4', 'the device\'s writes on the root\'s replica')
    expect(await kv.get('x')).toBe('1')
    expect(await kv.signerOf(hash)).toBe(deviceKey.did)
    expect((await collect(kv.entries())).every((r) => r.writer === root.did)).toBe(true)
  })
})

describe('hostile batches sent to a replica', () => {
  async function setup () {
    const ownerKey = createDidKeyIdentity()
    const owner = await peer({ identity: ownerKey })
    const replica = await peer()
    const attacker = await peer()
    await connect(replica, owner)
    await connect(attacker, replica)
    const db = await owner.keyValue<{ n: number }>('guarded', { schema: Value })
    await db.put('motto', { n: 1 })
    const onReplica = await replica.keyValue<{ n: number }>(db.address)
    await waitFor(async () => (await onReplica.get('motto'))?.n === 1, 'the honest write on the replica')
    await attacker.keyValue(db.address)
    return { ownerKey, replica, attacker, db, onReplica, before: await collect(onReplica.entries()) }
  }

  it('refuses oversized, mixed, self-dated, ill-typed and outsiders\' batches, and stays unchanged', async () => {
    const { ownerKey, replica, attacker, db, onReplica, before } = await setup()
    const put = (i: number): unknown => ({ op: 'PUT', key: `k${i}`, value: { n: i } })
    const cases: Array<{ what: string, value: unknown, signer?: typeof ownerKey, reason: string }> = [
      { what: 'too many operations', value: [...Array(MAX_BATCH_OPS + 1).keys()].map(put), reason: 'invalid-operation' },
      { what: 'an access operation inside', value: [put(1), { op: 'ACL', key: null, value: { action: 'grant', role: 'writer', did: '*', at: 1 } }], reason: 'invalid-operation' },
      { what: 'a time on one operation', value: [put(2), { op: 'PUT', key: 'k3', value: { n: 3 }, at: 5 }], reason: 'invalid-operation' },
      { what: 'a nested batch', value: [put(4), { op: 'BATCH', key: null, value: [put(5)] }], reason: 'invalid-operation' },
      { what: 'an empty batch', value: [], reason: 'invalid-operation' },
      { what: 'one value against the schema', value: [put(6), { op: 'PUT', key: 'k7', value: { n: 'seven' } }], reason: 'schema-mismatch' },
      { what: 'an outsider\'s batch', value: [put(8)], signer: createDidKeyIdentity(), reason: 'not-a-writer' }
    ]
    for (const c of cases) {
      const entry = await craftEntry({ address: db.address, payload: { op: 'BATCH', key: null, value: c.value }, signer: c.signer ?? ownerKey })
      const rejected = nextEvent<RejectedDetail>(onReplica, 'entry:rejected', `the batch with ${c.what} to be rejected`, (d) => d.hash === entry.hash)
      await push(attacker, replica, db.address, entry.bytes)
      expect(await rejected, c.what).toMatchObject({ reason: c.reason })
    }
    expect(await collect(onReplica.entries())).toEqual(before)
    expect(await onReplica.size()).toBe(1)
  })
})
