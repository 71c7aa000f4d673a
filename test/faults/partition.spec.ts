/**
 * Partition and heal, Jepsen style: replicas in separate processes are cut into random
 * halves (their connections closed) while every replica keeps writing unique values to one
 * event log; after the last heal, a final read on every replica must find every
 * acknowledged write (lost = 0), nothing that was never written (unexpected = 0), and the
 * same log everywhere. Seeded: DIDBASE_FAULT_SEED=<seed> replays a run.
 */
import { describe, expect, it } from 'vitest'
import { waitFor } from '../src/peers.js'
import { checkSet, faultSeed, LONG, seeded, sharedLog } from '../src/replicas.js'

const REPLICAS = LONG ? 5 : 3
const ROUNDS = LONG ? 12 : 3
const WRITES = LONG ? 20 : 5

describe('partition and heal', () => {
  it(`${REPLICAS} replicas, ${ROUNDS} random partitions: nothing lost, nothing invented, all identical`, async () => {
    const seed = faultSeed()
    const rand = seeded(seed)
    console.log(`seed ${seed} (replay: DIDBASE_FAULT_SEED=${seed})`)
    const { replicas } = await sharedLog(REPLICAS, 'set')

    const attempted = new Set<string>()
    const acknowledged = new Set<string>()
    let faults = 0
    for (let round = 0; round < ROUNDS; round++) {
      const shuffled = [...replicas].sort(() => rand() - 0.5)
      const cut = 1 + Math.floor(rand() * (REPLICAS - 1))
      const [left, right] = [shuffled.slice(0, cut), shuffled.slice(cut)]
      for (const r of left) await r.cut(right)
      for (const r of right) await r.cut(left)
      await waitFor(async () => {
        for (const r of left) if ((await r.connectedTo()).some((p) => right.some((o) => o.peerId === p))) return false
        return true
      }, `partition ${round} (seed ${seed})`)
      faults++
      await Promise.all(replicas.map(async (r) => {
        for (let k = 0; k < WRITES; k++) {
          const value = `${r.name}-${round}-${k}`
          attempted.add(value)
          await r.add(value)
          acknowledged.add(value)
        }
      }))
      await Promise.all(replicas.map(async (r) => r.heal()))
      for (const a of left) for (const b of right) await a.dial(b)
      if (LONG) console.log(`round ${round}: ${left.map((r) => r.name)} | ${right.map((r) => r.name)}, ${acknowledged.size} written`)
    }

    let last: Array<{ heads: string[], values: string[] }> = []
    const states = await waitFor(async () => {
      const all = await Promise.all(replicas.map(async (r) => r.state()))
      last = all
      const heads = new Set(all.map((s) => JSON.stringify(s.heads)))
      return heads.size === 1 && all.every((s) => s.values.length >= acknowledged.size) ? all : undefined
    }, `every replica to hold the same log (seed ${seed})`, 60_000).catch(async (err: Error) => {
      const connections = await Promise.all(replicas.map(async (r) => (await r.connectedTo()).length))
      throw new Error(`${err.message}; replicas hold ${last.map((s) => `${s.values.length} values, ${s.heads.length} heads`).join(' / ')}; connections ${connections.join(', ')}`)
    })

    const finals = states.map((s) => new Set(s.values))
    const result = checkSet(attempted, acknowledged, finals[0] as Set<string>)
    console.log(JSON.stringify({ suite: 'partition', seed, replicas: REPLICAS, partitions: faults, written: acknowledged.size, lost: result.lost.length, unexpected: result.unexpected.length, recovered: result.recovered }))
    expect(result.lost, `lost writes (seed ${seed})`).toEqual([])
    expect(result.unexpected, `unexpected values (seed ${seed})`).toEqual([])
    for (const f of finals) expect(f, `replicas differ (seed ${seed})`).toEqual(finals[0])
    await Promise.all(replicas.map(async (r) => r.stop()))
  }, LONG ? 600_000 : 120_000)
})
