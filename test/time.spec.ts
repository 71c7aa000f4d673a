/**
 * Every write carries its writer's signed time, and every reader sees it as the record's
 * `time`: on the writer, on a replica over loopback, for single writes, bursts and batches,
 * in key-value, document and event-log databases. A private database's writes signed with
 * a DID's own key carry none (non-members would learn when each was made).
 */
import { createDidKeyIdentity, defineSchema, delegatedIdentity, delegateDevice, s } from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { collect, connect, peer, waitFor } from './src/peers.js'

const Note = defineSchema('Note', s.struct({ _id: s.string(), text: s.string() }))

describe('the time of a write', () => {
  it('is signed into every write and read back the same on the writer and on a replica', async () => {
    const writer = await peer({ memory: true })
    const reader = await peer({ memory: true, resync: { intervalMs: 0, retry: false } })
    const before = Date.now()
    const kv = await writer.keyValue<number>('timed-kv')
    await kv.put('single', 1)
    await Promise.all([kv.put('burst-a', 2), kv.put('burst-b', 3), kv.put('burst-c', 4)])
    await kv.batch((b) => { b.put('batch-a', 5).put('batch-b', 6) })
    const notes = await writer.documents('timed-notes', { schema: Note })
    await notes.put({ _id: 'n1', text: 'hello' })
    const events = await writer.eventLog<string>('timed-events')
    const added = await events.add('one')
    await events.batch((b) => { b.add('two').add('three') })
    const after = Date.now()

    const mine = await collect(kv.entries())
    expect(mine.map((r) => r.key).sort()).toEqual(['batch-a', 'batch-b', 'burst-a', 'burst-b', 'burst-c', 'single'])
    for (const record of [...mine, ...await collect(notes.entries()), ...await collect(events.entries())]) {
      expect(record.time).toBeGreaterThanOrEqual(before)
      expect(record.time).toBeLessThanOrEqual(after)
    }
    // A batch's operations share its one time.
    const batched = mine.filter((r) => r.key.startsWith('batch-'))
    expect(batched[0]?.time).toBe(batched[1]?.time)
    expect((await events.get(added))?.time).toBeGreaterThanOrEqual(before)

    // A replica reads the very times the writer signed.
    await connect(reader, writer)
    const copy = await reader.keyValue<number>(kv.address)
    const theirs = await waitFor(async () => {
      const rows = await collect(copy.entries())
      return rows.length === mine.length ? rows : undefined
    }, 'the replica holds every record')
    const timeOf = (rows: typeof mine): Record<string, number | undefined> => Object.fromEntries(rows.map((r) => [r.key, r.time]))
    expect(timeOf(theirs)).toEqual(timeOf(mine))
  })

  it('dates a delegated device\'s burst once per entry, so its writes still share entries', async () => {
    const root = createDidKeyIdentity()
    const deviceKey = createDidKeyIdentity()
    const owner = await peer({ memory: true, identity: root })
    const kv = await owner.keyValue<number>('timed-device', { acl: true })
    const token = await delegateDevice(root, deviceKey.did, { scope: [kv.address], expiresIn: 3_600_000 })
    const phone = await peer({ memory: true, identity: await delegatedIdentity(deviceKey, [token]) })
    await connect(phone, owner)
    const onPhone = await phone.keyValue<number>(kv.address)
    await onPhone.whenSynced()
    await onPhone.put('first', 0)
    const hashes = await Promise.all(Array.from({ length: 10 }, async (_, i) => onPhone.put(`k${i}`, i)))
    // Grouped: a batch whose one time the delegation is judged against, not ten entries written one by one.
    expect(new Set(hashes).size).toBeLessThan(10)
    const rows = await collect(onPhone.entries())
    expect(rows).toHaveLength(11)
    for (const row of rows) expect(row.time).toEqual(expect.any(Number))
  })

  it('is not written in a private database by a DID signing with its own key', async () => {
    const writer = await peer({ memory: true })
    const secret = await writer.keyValue<string>('timed-private', { private: true })
    await secret.put('k', 'sealed')
    const [record] = await collect(secret.entries())
    expect(record?.value).toBe('sealed')
    expect(record).not.toHaveProperty('time')
  })
})
