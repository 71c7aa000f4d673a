/**
 * Found by an attack review: a fixed writer set accepts an entry whose links it does not hold
 * before it knows their clocks, and refuses it once it does. That acceptance must not be
 * remembered (replica/verdicts.ts), or an entry with a forged clock (2^53 - 1, winning every
 * last-write-wins comparison and bricking writes) is joined when it comes a second time.
 * Real controller, real OrbitDB log, real signatures; the peer that serves the link is a map.
 */
import { createDidKeyIdentity, didWriters, orbitIdentityLayer } from '@didbase/access'
import * as orbitdb from '@orbitdb/core'
import { Entry, type Log, type LogEntry } from '@orbitdb/core'
import { MemoryBlockstore } from 'blockstore-core'
import { CID } from 'multiformats/cid'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { judgeOnce } from '../src/replica/verdicts.js'

const address = '/orbitdb/zdpuClockVerdicts'
/** OrbitDB's log itself (our declarations of @orbitdb/core leave it a type). */
const makeLog = (orbitdb as unknown as { Log: (identity: unknown, options: unknown) => Promise<Log> }).Log

/** A replica's log with the verdicts of one path, whose missing blocks come from `network` (and are then stored, as Helia does). */
async function replicaLog (network: Map<string, Uint8Array>, options: { verdicts?: boolean, did?: ReturnType<typeof createDidKeyIdentity> } = {}): Promise<Log> {
  const blockstore = new MemoryBlockstore()
  const { identity } = orbitIdentityLayer(options.did ?? createDidKeyIdentity())
  const access = await didWriters({ writers: ['*'] })({ orbitdb: { ipfs: { blockstore }, identity } } as never) as never as Parameters<typeof judgeOnce>[0] & { bind: (a: string) => void }
  access.bind(address)
  if (options.verdicts !== false) judgeOnce(access)
  const read = async (cid: CID): Promise<Uint8Array> => {
    const got = blockstore.get(cid) as unknown
    if (got instanceof Uint8Array) return got
    if (typeof (got as Promise<Uint8Array>)?.then === 'function') return got as Promise<Uint8Array>
    const parts: Uint8Array[] = []
    for await (const chunk of got as AsyncIterable<Uint8Array>) parts.push(chunk)
    return parts.length === 1 ? parts[0] as Uint8Array : new Uint8Array(parts.flatMap((p) => [...p]))
  }
  const entryStorage = {
    put: async (hash: string, bytes: Uint8Array) => { await blockstore.put(CID.parse(hash), bytes) },
    get: async (hash: string) => {
      const cid = CID.parse(hash)
      if (await blockstore.has(cid)) return read(cid)
      const bytes = network.get(hash)
      if (bytes !== undefined) await blockstore.put(cid, bytes)
      return bytes
    },
    del: async () => {},
    iterator: async function * () {},
    merge: async () => {},
    clear: async () => {},
    close: async () => {}
  }
  return makeLog(identity, { logId: address, access, entryStorage })
}

describe('verdicts on a fixed writer set that waits for its links\' clocks', () => {
  it('an entry with a forged clock is refused every time it comes, not joined the second time', async () => {
    const { identity: attacker } = orbitIdentityLayer(createDidKeyIdentity())
    const network = new Map<string, Uint8Array>()
    const link = await Entry.encode(await Entry.create(attacker, address, { op: 'PUT', key: 'k', value: 'first' }, undefined, { id: attacker.publicKey, time: 1 }, [], []))
    network.set(link.hash, link.bytes)
    const forged = await Entry.encode(await Entry.create(attacker, address, { op: 'PUT', key: 'k', value: 'forged clock' }, undefined, { id: attacker.publicKey, time: Number.MAX_SAFE_INTEGER }, [link.hash], []))

    const log = await replicaLog(network)
    const outcomes: string[] = []
    for (let delivery = 0; delivery < 3; delivery++) {
      try {
        await log.joinEntry(await Entry.decode(forged.bytes) as LogEntry)
        outcomes.push('joined')
      } catch (err) {
        outcomes.push((err as { reason?: string }).reason ?? (err as Error).message)
      }
    }
    expect(outcomes).toEqual(['invalid-clock', 'invalid-clock', 'invalid-clock'])
    expect(await log.has(forged.hash)).toBe(false)
    expect((await log.heads()).map((h: LogEntry) => h.hash)).not.toContain(forged.hash)
  })

  it('a replica with verdicts joins exactly what one without joins, for any clocks, links and deliveries, and the founder writes on', async () => {
    const founder = createDidKeyIdentity()
    const { identity: attacker } = orbitIdentityLayer(createDidKeyIdentity())
    // Each entry links to some earlier ones, with a clock one past them (honest) or any other.
    const entry = fc.record({ links: fc.uniqueArray(fc.nat(7), { maxLength: 3 }), clock: fc.oneof(fc.constant('honest' as const), fc.constant(Number.MAX_SAFE_INTEGER), fc.nat(6)) })
    await fc.assert(fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(5), { minLength: 1, maxLength: 12 }), async (shapes, deliveries) => {
      const network = new Map<string, Uint8Array>()
      const made: Array<{ hash: string, bytes: Uint8Array, time: number }> = []
      for (const [i, shape] of shapes.entries()) {
        const links = [...new Set(shape.links.filter((l) => l < i))].map((l) => made[l] as { hash: string, time: number })
        const time = shape.clock === 'honest' ? Math.max(0, ...links.map((l) => l.time)) + 1 : shape.clock
        const encoded = await Entry.encode(await Entry.create(attacker, address, { op: 'PUT', key: `k${i}`, value: i }, undefined, { id: attacker.publicKey, time }, links.map((l) => l.hash), []))
        network.set(encoded.hash, encoded.bytes)
        made.push({ ...encoded, time })
      }
      const withVerdicts = await replicaLog(network, { did: founder })
      const without = await replicaLog(network, { verdicts: false })
      for (const d of deliveries) {
        const sent = made[d % made.length] as { bytes: Uint8Array }
        const outcomes: string[] = []
        for (const log of [withVerdicts, without]) {
          try {
            outcomes.push(await log.joinEntry(await Entry.decode(sent.bytes) as LogEntry) ? 'joined' : 'held')
          } catch (err) {
            outcomes.push((err as { reason?: string }).reason ?? 'refused')
          }
        }
        expect(outcomes[0]).toBe(outcomes[1])
      }
      const heldBy = async (log: Log): Promise<string[]> => (await Promise.all(made.map(async (m) => (await log.has(m.hash)) ? m.hash : ''))).filter(Boolean)
      expect(await heldBy(withVerdicts)).toEqual(await heldBy(without))
      // The founder writes on top of whatever was accepted, and a fresh replica takes the write with its past.
      const mine = await withVerdicts.append({ op: 'PUT', key: 'founder', value: 'still writing' }) as LogEntry
      network.set(mine.hash, (await Entry.encode(mine)).bytes)
      const fresh = await replicaLog(network, { verdicts: false })
      expect(await fresh.joinEntry(await Entry.decode(network.get(mine.hash) as Uint8Array) as LogEntry)).toBe(true)
    }), { numRuns: 40 })
  })
})
