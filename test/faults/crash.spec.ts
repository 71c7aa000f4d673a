/**
 * Crash while ingesting: a replica process catching up with a writer is killed with
 * SIGKILL at random moments. After each restart, offline, every entry its heads reach is
 * stored and verifies; then sync resumes, and in the end it holds exactly the writer's log.
 * Seeded: DIDBASE_FAULT_SEED=<seed> replays a run.
 */
import { describe, expect, it } from 'vitest'
import { tempDir, waitFor } from '../src/peers.js'
import { faultSeed, LONG, Replica, seeded } from '../src/replicas.js'

const ENTRIES = LONG ? 10_000 : 1_000
const KILLS = LONG ? 5 : 2

/** Give up on a walk of the stored log that waits for a block: a head names a block not stored. */
async function within<T> (ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(what)), ms) })
  try {
    return await Promise.race([work, late])
  } finally {
    clearTimeout(timer)
  }
}

describe('crash while ingesting', () => {
  it(`SIGKILL ${KILLS} times while catching up on ${ENTRIES} entries: the log stays whole, and sync finishes`, async () => {
    const seed = faultSeed()
    const rand = seeded(seed)
    console.log(`seed ${seed} (replay: DIDBASE_FAULT_SEED=${seed})`)
    const writer = new Replica('writer', await tempDir())
    await writer.start()
    const address = await writer.create('ingest', [writer.did])
    // A tenth is there before the replica comes; the rest arrives live, in many small
    // joins paced to last until the last kill, so that kills land while entries arrive.
    await writer.addMany('a', ENTRIES / 10)
    const live = (async () => {
      for (let i = 0; i < 45; i++) {
        await writer.addMany(`b${i}-`, ENTRIES / 50)
        await new Promise((resolve) => setTimeout(resolve, LONG ? 1_000 : 100))
      }
    })()

    const replica = new Replica('replica', await tempDir())
    const stored: number[] = []
    for (let kill = 0; kill <= KILLS; kill++) {
      await replica.start()
      const opened = kill > 0 && await replica.open(address).then(() => true, () => false)
      if (opened) {
        // Offline: what survived the crash must be a whole, verified log.
        const check = await within(10_000, `after crash ${kill}, reading the heads did not finish: a head names a block that is not stored (seed ${seed})`, replica.verify())
        expect(check.missing, `entries the heads reach that are not stored, after crash ${kill} (seed ${seed})`).toBe(0)
        expect(check.bad, `entries that fail verification after crash ${kill} (seed ${seed})`).toBe(0)
        stored.push(check.entries)
      }
      await replica.dial(writer)
      await replica.open(address)
      if (kill === KILLS) break
      await new Promise((resolve) => setTimeout(resolve, 1_000 + rand() * (LONG ? 8_000 : 4_000)))
      await replica.kill()
    }
    await live
    const reference = await writer.state()
    // Heads only while it catches up: reading every value walks the whole log each time.
    await waitFor(async () => JSON.stringify(await replica.heads()) === JSON.stringify(reference.heads), `the replica to finish catching up (seed ${seed})`, LONG ? 300_000 : 60_000)
    const final = await replica.state()
    expect(final.heads).toEqual(reference.heads)
    expect(new Set(final.values)).toEqual(new Set(reference.values))
    const verified = await replica.verify()
    expect(verified).toEqual({ entries: ENTRIES, bad: 0, missing: 0, heads: reference.heads })
    console.log(JSON.stringify({ suite: 'crash', seed, entries: ENTRIES, kills: KILLS, storedAfterEachCrash: stored, lost: ENTRIES - final.values.length }))
    await replica.stop()
    await writer.stop()
  }, LONG ? 900_000 : 120_000)

  it('SIGKILL during bursts of concurrent writes: every acknowledged write is there after restart, none that was refused', async () => {
    const seed = faultSeed()
    const rand = seeded(seed)
    const writer = new Replica('writer', await tempDir())
    await writer.start()
    const created = await writer.create('bursts', [writer.did])
    const bursts = LONG ? 100 : 20
    await writer.startBursts('v', 500, bursts, 50)
    // Kill somewhere in the middle of the bursts.
    const target = Math.floor((0.2 + rand() * 0.5) * bursts * 500 * 0.98)
    await waitFor(async () => (await writer.writing()).acknowledged >= target, `${target} acknowledged writes (seed ${seed})`, 60_000)
    const before = await writer.writing(true)
    await writer.kill()
    expect(before.finished, `the bursts were still under way when killed (seed ${seed})`).toBe(false)

    await writer.start()
    await writer.open(created)
    const check = await within(10_000, `after the crash, reading the heads did not finish (seed ${seed})`, writer.verify())
    expect(check.missing).toBe(0)
    expect(check.bad).toBe(0)
    const final = new Set((await writer.state()).values)
    const acknowledged = before.acknowledgedValues ?? []
    const lost = acknowledged.filter((v) => !final.has(v))
    expect(lost, `acknowledged writes missing after the crash (seed ${seed})`).toEqual([])
    expect((before.refusedValues ?? []).filter((v) => final.has(v))).toEqual([])
    expect((before.refusedValues ?? []).length).toBeGreaterThan(0)
    console.log(JSON.stringify({ suite: 'crash-bursts', seed, acknowledged: acknowledged.length, refused: before.refusedValues?.length, stored: final.size, entries: check.entries }))
    await writer.stop()
  }, 120_000)
})
