/**
 * Load: many writers on several replica processes converge; and opening and closing many
 * databases on one node leaks no file descriptors, pubsub topics, protocol handlers or
 * event listeners.
 */
import { readdir } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { peer, waitFor } from '../src/peers.js'
import { checkSet, LONG, sharedLog } from '../src/replicas.js'

const REPLICAS = LONG ? 5 : 3
/** Writers per replica process: 20 writers across 5 replicas in the long run. */
const WRITERS_PER_REPLICA = LONG ? 4 : 1
const PER_WRITER = Number(process.env.DIDBASE_LOAD_PER_WRITER ?? (LONG ? 1_000 : 100))
const DATABASES = LONG ? 200 : 40
/** Deadline for the writes, and again for convergence after them. */
const TIMEOUT = LONG ? 1_800_000 : 60_000

async function openFiles (): Promise<number> {
  return (await readdir('/proc/self/fd')).length
}

describe('load', () => {
  it(`${REPLICAS * WRITERS_PER_REPLICA} writers on ${REPLICAS} replica processes each write ${PER_WRITER} entries at once, and all converge`, async () => {
    const { replicas } = await sharedLog(REPLICAS, 'load', WRITERS_PER_REPLICA - 1)
    const total = REPLICAS * WRITERS_PER_REPLICA * PER_WRITER
    const started = Date.now()
    const seconds = (): number => Math.round((Date.now() - started) / 1000)
    let reported = Date.now()
    const every30s = (line: () => Promise<string>): Promise<void> | undefined => {
      if (Date.now() - reported < 30_000) return undefined
      reported = Date.now()
      return line().then((text) => { console.log(`load: ${seconds()} s, ${text}`) })
    }

    await Promise.all(replicas.map(async (r) => r.startWriting(`${r.name}-`, PER_WRITER)))
    await waitFor(async () => {
      const progress = await Promise.all(replicas.map(async (r) => r.writing()))
      const failed = progress.find((p) => p.error !== undefined)
      if (failed !== undefined) throw new Error(`a write failed: ${failed.error}`)
      await every30s(async () => `writes acknowledged per replica process: ${progress.map((p) => p.acknowledged).join(' ')} of ${total / REPLICAS} each`)
      return progress.every((p) => p.finished)
    }, 'every write to be acknowledged', TIMEOUT)
    const wrote = seconds()

    // Only heads are polled: equal heads mean equal logs, and reading every value walks the
    // whole log, which would take the CPU the replicas need to converge.
    let checked = ''
    const states = await waitFor(async () => {
      const heads = await Promise.all(replicas.map(async (r) => r.heads()))
      await every30s(async () => `heads per replica: ${heads.map((h) => h.length).join(' ')}`)
      const distinct = new Set(heads.map((h) => JSON.stringify(h)))
      const [same] = distinct
      if (distinct.size !== 1 || same === checked) return undefined
      checked = same as string
      const all = await Promise.all(replicas.map(async (r) => r.state()))
      return all.every((s) => s.values.length >= total) ? all : undefined
    }, 'every replica to hold every write', TIMEOUT)
    const ms = Date.now() - started

    const writes = await Promise.all(replicas.map(async (r) => r.writing(true)))
    const attempted = new Set(writes.flatMap((w) => w.attemptedValues ?? []))
    const acknowledged = new Set(writes.flatMap((w) => w.acknowledgedValues ?? []))
    const stats = await Promise.all(replicas.map(async (r) => r.stats()))
    const checks = states.map((s) => checkSet(attempted, acknowledged, new Set(s.values)))
    console.log(JSON.stringify({
      suite: 'load',
      replicas: REPLICAS,
      writers: REPLICAS * WRITERS_PER_REPLICA,
      entries: total,
      acknowledged: acknowledged.size,
      wroteInS: wrote,
      convergedInS: Math.round(ms / 1000),
      lost: checks.map((c) => c.lost.length),
      unexpected: checks.map((c) => c.unexpected.length),
      busy: stats.map((s) => Number(s.busy.toFixed(2))),
      troubles: stats.map((s) => s.troubles)
    }))
    expect(acknowledged.size).toBe(total)
    for (const c of checks) expect({ lost: c.lost.slice(0, 5), unexpected: c.unexpected.slice(0, 5) }).toEqual({ lost: [], unexpected: [] })
    for (const s of states) expect(s.values).toEqual(states[0]?.values)
    await Promise.all(replicas.map(async (r) => r.stop()))
  }, TIMEOUT * 2 + 60_000)

  it(`opening and closing ${DATABASES} databases leaks no files, topics, handlers or listeners`, async () => {
    const node = await peer({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    const libp2p = node.helia.libp2p
    const pubsub = libp2p.services.pubsub as { getTopics: () => string[], listenerCount: (type: string) => number }
    const events = libp2p as unknown as { listenerCount: (type: string) => number }
    const measure = async () => ({
      files: await openFiles(),
      topics: pubsub.getTopics().length,
      protocols: libp2p.getProtocols().length,
      pubsubListeners: pubsub.listenerCount('message') + pubsub.listenerCount('subscription-change'),
      libp2pListeners: ['peer:disconnect', 'peer:connect', 'connection:close'].reduce((n, e) => n + events.listenerCount(e), 0),
      processListeners: process.eventNames().reduce((n, e) => n + process.listenerCount(e), 0)
    })
    // One round first, so what is created once per node (caches, pools) is in the baseline.
    const cycle = async (i: number): Promise<void> => {
      const db = await node.keyValue<number>(`db-${i}`)
      await db.put('k', i)
      await db.close()
    }
    await cycle(-1)
    const before = await measure()
    // The counters do see an open database: what a leak would leave behind.
    const open = await node.keyValue<number>('held-open')
    const during = await measure()
    expect(during.topics).toBe(before.topics + 1)
    expect(during.pubsubListeners).toBeGreaterThan(before.pubsubListeners ?? 0)
    expect(during.protocols).toBe(before.protocols + 1)
    await open.close()
    for (let i = 0; i < DATABASES; i++) await cycle(i)
    const after = await measure()
    console.log(JSON.stringify({ suite: 'leaks', databases: DATABASES, before, after }))
    const { files: filesAfter, ...counts } = after
    const { files: filesBefore, ...baseline } = before
    expect(counts).toEqual(baseline)
    // LevelDB may keep a few descriptors open for a moment after close; not one per database.
    expect(filesAfter - filesBefore).toBeLessThan(5)
  }, LONG ? 600_000 : 60_000)
})
