/**
 * A Replica on a real in-memory node (Helia, OrbitDB, the didbase access controller) with its
 * network, storage and lifecycle parts stubbed, as js-libp2p stubs a service's components:
 * no peer is dialled, and the test sees what the replica asks of each part.
 */
import { createDidKeyIdentity, didAcl, didWriters, orbitIdentityLayer } from '@didbase/access'
import { createOrbitDB, type LogEntry, useAccessController } from '@orbitdb/core'
import { TypedEventEmitter } from 'main-event'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { DatabaseEvents } from '../src/events.js'
import { createNode, type Node } from '../src/node/helia-node.js'
import { bindIndex, openOrbitDatabase, type ReplicaHost } from '../src/replica/assemble.js'
import type { EntryIndex, ReplicaComponents } from '../src/replica/components.js'
import { Replica } from '../src/replica/replica.js'
import type { TopicValidatorFn } from '@libp2p/gossipsub'

useAccessController(didWriters as never)
useAccessController(didAcl as never)

interface Stubs {
  validators: Map<string, TopicValidatorFn>
  resyncs: boolean[]
  closes: Array<Promise<void>>
  stops: number
  indexed: string[]
  saves: number
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A replica of a new database on a node of its own; every part but the database and its policy stubbed. */
async function replicaOf (choices: { acl?: boolean }): Promise<{ replica: Replica, stubs: Stubs, node: Node }> {
  const dir = await mkdtemp(join(tmpdir(), 'didbase-replica-'))
  const node = await createNode({ directory: dir, memory: true, listen: [], bootstrap: [], relay: false })
  const identity = createDidKeyIdentity()
  const { identity: orbitIdentity, identities } = orbitIdentityLayer(identity)
  const orbitdbDirectory = join(dir, 'orbitdb')
  const orbitdb = await createOrbitDB({ ipfs: node.helia, identity: orbitIdentity, identities, directory: orbitdbDirectory })
  cleanups.push(async () => {
    await orbitdb.stop()
    await node.stop()
    await rm(dir, { recursive: true, force: true })
  })
  const stubs: Stubs = { validators: new Map(), resyncs: [], closes: [], stops: 0, indexed: [], saves: 0 }
  const host: ReplicaHost = { helia: node.helia, orbitdb, orbitdbDirectory, identity, validators: stubs.validators, resync: { intervalMs: 0, retry: false }, queryStore: node.queryStore }
  const opened = await openOrbitDatabase(host, 'replica-unit', { type: 'keyvalue', meta: { didbase: 1 }, cid: undefined }, choices, undefined, () => false)
  await bindIndex(host, opened)
  const parts: ReplicaComponents = {
    db: opened.db,
    policy: opened.db.access as unknown as ReplicaComponents['policy'],
    identity,
    network: { topicValidators: stubs.validators, resync: (again) => { stubs.resyncs.push(again === true) } },
    storage: { fetches: opened.fetches, stored: async () => true },
    lifecycle: { onClose: (closing) => { stubs.closes.push(closing) }, stop: () => { stubs.stops++ } },
    resync: { intervalMs: 0, retry: false }
  }
  const index: EntryIndex = {
    add: (entry: LogEntry) => { stubs.indexed.push(entry.hash) },
    save: async () => { stubs.saves++ }
  }
  const replica = new Replica(parts, new TypedEventEmitter<DatabaseEvents>(), index)
  cleanups.push(async () => replica.close())
  return { replica, stubs, node }
}

describe('Replica', () => {
  it('judges its own entries with the policy once, and tells the index of each before anyone hears of it', async () => {
    const { replica, stubs } = await replicaOf({ acl: true })
    const events: string[] = []
    replica.db.events.on('update', (entry: LogEntry) => { events.push(`${stubs.indexed.includes(entry.hash) ? 'indexed' : 'NOT indexed'} ${entry.hash}`) })
    const judgedBefore = replica.policy.progress.judged
    const hashes: string[] = []
    for (let i = 0; i < 3; i++) hashes.push(await replica.writer.commit(async () => [{ op: 'PUT', key: `k${i}`, value: i }]))
    expect(stubs.indexed).toEqual(hashes)
    expect(events).toEqual(hashes.map((h) => `indexed ${h}`))
    // The checks before signing were the policy's only runs: no entry was judged again in OrbitDB's append.
    expect(replica.policy.progress.judged).toBe(judgedBefore)
    // Another replica's judge, from scratch, accepts every one of them.
    for (const hash of hashes) {
      const entry = await replica.db.log.get(hash) as LogEntry
      expect(await replica.verdicts.admit(entry)).toBe(true)
    }
  })

  it('appends what it checked: a value the caller changes after the check is written as it was', async () => {
    for (const acl of [false, true]) {
      const { replica } = await replicaOf({ acl })
      const value: Record<string, unknown> = { title: 'small' }
      // The caller changes its object the moment the policy has passed it, before the append.
      const check = replica.policy.check.bind(replica.policy)
      replica.policy.check = async (...args) => {
        await check(...args)
        value.blob = 'x'.repeat(300_000)
      }
      const hash = await replica.writer.commit(async () => [{ op: 'PUT', key: 'k', value }])
      const stored = await replica.db.log.get(hash) as LogEntry & { payload: { value: unknown } }
      expect(stored.payload.value).toEqual({ title: 'small' })
      // Judged afresh from its bytes, as any other replica judges it: accepted.
      const { Entry } = await import('@orbitdb/core')
      const again = await Entry.decode((await Entry.encode(stored)).bytes) as LogEntry
      expect(await replica.db.access.canAppend(again)).toBe(true)
    }
  })

  it('judges a remote entry once however many steps ask, and registers its validator for as long as it is open', async () => {
    const { replica, stubs } = await replicaOf({})
    expect([...stubs.validators.keys()]).toEqual([replica.address])
    const hash = await replica.writer.commit(async () => [{ op: 'PUT', key: 'k', value: 1 }])
    const entry = await replica.db.log.get(hash) as LogEntry
    const judged = replica.verdicts.stats.judged
    // The topic validator, the stall guard and OrbitDB's join each ask.
    for (let step = 0; step < 3; step++) expect(await replica.db.access.canAppend(entry)).toBe(true)
    expect(replica.verdicts.stats.judged).toBe(judged + 1)
    expect(replica.verdicts.stats.answered).toBeGreaterThanOrEqual(2)

    await Promise.all([replica.close(), replica.close()])
    expect(stubs.closes).toHaveLength(1)
    expect(stubs.stops).toBe(1)
    expect(stubs.saves).toBe(1)
    expect(stubs.validators.size).toBe(0)
    await expect(replica.writer.commit(async () => [{ op: 'PUT', key: 'late', value: 1 }])).rejects.toMatchObject({ name: 'ClosedError' })
  })
})
