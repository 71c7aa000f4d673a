/**
 * Reorder, duplicate and drop: a writer's entries reach replicas straight over the
 * database's topic in a random order, some twice, some dropped and sent again at the end.
 * Joins are idempotent: every replica ends with the writer's exact log, whatever it was
 * sent. Seeded: DIDBASE_FAULT_SEED=<seed> replays a run.
 */
import { createDidKeyIdentity, type Didbase } from '@didbase/sdk'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { craftEntry, push } from '../src/attacker.js'
import { collect, peer, waitFor } from '../src/peers.js'
import { faultSeed, LONG, seeded } from '../src/replicas.js'

const ENTRIES = LONG ? 2_000 : 200

describe('reorder, duplicate and drop', () => {
  it(`${ENTRIES} entries delivered shuffled, duplicated and dropped-then-resent: replicas converge on the writer's log`, async () => {
    const seed = faultSeed()
    const rand = seeded(seed)
    console.log(`seed ${seed} (replay: DIDBASE_FAULT_SEED=${seed})`)
    const identity = createDidKeyIdentity()
    const writer = await peer({ identity, memory: true, listen: ['/ip4/127.0.0.1/tcp/0'] })
    const log = await writer.eventLog<string>('delivery')

    // The writer's entries, made outside its node: a chain with a branch now and then
    // (an entry that links to two earlier ones).
    const courier = await peer({ memory: true, listen: ['/ip4/127.0.0.1/tcp/0'] })
    const entries: Array<{ hash: string, bytes: Uint8Array }> = []
    for (let i = 0; i < ENTRIES; i++) {
      const prev = entries[i - 1]
      const extra = i > 2 && rand() < 0.1 ? entries[Math.floor(rand() * (i - 1))] : undefined
      const next = [...new Set([prev?.hash, extra?.hash].filter((h): h is string => h !== undefined))]
      const entry = await craftEntry({ address: log.address, payload: { op: 'ADD', key: null, value: `v${i}` }, signer: identity, next, time: i + 1 })
      entries.push(entry)
      // The courier can serve any entry a replica asks for by hash.
      await courier.helia.blockstore.put(CID.parse(entry.hash, base58btc), entry.bytes)
    }
    const head = entries.at(-1)?.hash as string

    const deliver = async (replica: Didbase): Promise<void> => {
      const order = entries.map((_, i) => i).sort(() => rand() - 0.5)
      const dropped: number[] = []
      for (const i of order) {
        const r = rand()
        if (r < 0.2) {
          dropped.push(i)
          continue
        }
        await push(courier, replica, log.address, (entries[i] as { bytes: Uint8Array }).bytes)
        if (r > 0.7) await push(courier, replica, log.address, (entries[i] as { bytes: Uint8Array }).bytes)
      }
      for (const i of dropped) await push(courier, replica, log.address, (entries[i] as { bytes: Uint8Array }).bytes)
    }

    const replicas = [await peer({ memory: true }), await peer({ memory: true })]
    for (const r of replicas) {
      await r.dial(writer.multiaddrs[0] as string) // for the manifest
      await r.dial(courier.multiaddrs[0] as string)
    }
    const logs = await Promise.all(replicas.map(async (r) => r.eventLog<string>(log.address)))
    const rejected: string[] = []
    for (const l of logs) l.addEventListener('entry:rejected', (e) => rejected.push(e.detail.reason))
    await writer.close() // from now on, only the courier's deliveries
    for (const r of replicas) await deliver(r)

    for (const l of logs) {
      await waitFor(async () => JSON.stringify(await l.heads()) === JSON.stringify([head]), `a replica to reach the writer's head (seed ${seed})`)
      const values = (await collect(l.entries())).map((e) => e.value)
      expect(new Set(values), `values (seed ${seed})`).toEqual(new Set(entries.map((_, i) => `v${i}`)))
      expect(values).toHaveLength(ENTRIES)
    }
    expect((await collect(logs[0]!.entries())).map((e) => e.hash)).toEqual((await collect(logs[1]!.entries())).map((e) => e.hash))
    expect(rejected, `rejections (seed ${seed})`).toEqual([])
    console.log(JSON.stringify({ suite: 'delivery', seed, entries: ENTRIES, replicas: replicas.length }))
  }, LONG ? 600_000 : 120_000)
})
