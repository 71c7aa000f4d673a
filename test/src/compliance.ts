/**
 * The access-controller compliance suite: what every didbase policy must do, run against
 * real peers over loopback. A policy plugs in how a database is created and how a second
 * DID is made a writer; the suite checks writes, local refusals and hostile entries.
 */
import { createDidKeyIdentity } from '@didbase/access'
import type { CreateOptions, Didbase, KeyValueDatabase, RejectedDetail } from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { craftEntry, push } from './attacker.js'
import { collect, connect, nextEvent, peer, waitFor } from './peers.js'

export interface PolicySetup {
  name: string
  /** Options for the owner's new database; `writer` is the DID that is to write too. */
  create: (dids: { owner: string, writer: string }) => CreateOptions<string>
  /** Make the writer a writer after creation, when the policy needs a step (grant, invite). */
  enrol?: (ctx: { ownerDb: KeyValueDatabase, writer: Didbase }) => Promise<void>
  /** The policy lets any DID write (the outsider tests then expect acceptance). */
  open?: boolean
}

interface World {
  owner: Didbase
  writer: Didbase
  replica: Didbase
  attacker: Didbase
  ownerDb: KeyValueDatabase<string>
  writerDb: KeyValueDatabase<string>
  replicaDb: KeyValueDatabase<string>
}

async function world (setup: PolicySetup): Promise<World> {
  const owner = await peer()
  const writer = await peer()
  const replica = await peer()
  const attacker = await peer()
  await connect(writer, owner)
  await connect(replica, owner)
  await connect(attacker, replica)
  const ownerDb = await owner.keyValue<string>('shared', setup.create({ owner: owner.did, writer: writer.did }))
  await ownerDb.put('from-owner', 'owner')
  await setup.enrol?.({ ownerDb, writer })
  const writerDb = await writer.keyValue<string>(ownerDb.address)
  await waitFor(async () => writerDb.canWrite(), 'the writer to see that it may write')
  await writerDb.put('from-writer', 'writer')
  const replicaDb = await replica.keyValue<string>(ownerDb.address)
  await waitFor(async () => (await replicaDb.get('from-writer')) === 'writer', 'the writer\'s value on the replica')
  await attacker.keyValue(ownerDb.address)
  return { owner, writer, replica, attacker, ownerDb, writerDb, replicaDb }
}

export function runAccessControllerSuite (setup: PolicySetup): void {
  describe(`access policy compliance: ${setup.name}`, () => {
    it('writes by the owner and an enrolled writer replicate with their DIDs', async () => {
      const w = await world(setup)
      const rows = await collect(w.replicaDb.entries())
      expect(rows.map((r) => [r.key, r.value, r.writer]).sort()).toEqual([
        ['from-owner', 'owner', w.owner.did],
        ['from-writer', 'writer', w.writer.did]
      ])
      // A replica that opens later, knowing only the address, ends with the same records.
      const late = await peer()
      await connect(late, w.owner)
      const lateDb = await late.keyValue<string>(w.ownerDb.address)
      const expected = JSON.stringify(await collect(w.replicaDb.entries()))
      await waitFor(async () => JSON.stringify(await collect(lateDb.entries())) === expected, 'the late replica to hold the same records')
    })

    it(setup.open === true ? 'lets an outsider write' : 'refuses an outsider\'s local write before signing', async () => {
      const w = await world(setup)
      const outsiderDb = await w.attacker.keyValue<string>(w.ownerDb.address)
      await waitFor(async () => (await outsiderDb.get('from-writer')) === 'writer', 'the outsider to sync')
      const size = await outsiderDb.size()
      if (setup.open === true) {
        await outsiderDb.put('from-outsider', 'hello')
        await waitFor(async () => (await w.replicaDb.get('from-outsider')) === 'hello', 'the outsider\'s value on the replica')
        return
      }
      await expect(outsiderDb.put('from-outsider', 'hello')).rejects.toMatchObject({ name: 'AccessDeniedError', did: w.attacker.did })
      expect(await outsiderDb.size()).toBe(size)
    })

    it(setup.open === true ? 'accepts a raw entry from any DID' : 'rejects a raw entry from a DID that may not write, on the replica', async () => {
      const w = await world(setup)
      const outsider = createDidKeyIdentity()
      const before = await collect(w.replicaDb.entries())
      const entry = await craftEntry({ address: w.ownerDb.address, payload: { op: 'PUT', key: 'from-writer', value: 'outsider' }, signer: outsider, next: await w.replicaDb.heads() })
      if (setup.open === true) {
        await push(w.attacker, w.replica, w.ownerDb.address, entry.bytes)
        await waitFor(async () => (await w.replicaDb.get('from-writer')) === 'outsider', 'the open database to take the entry')
        return
      }
      const rejected = nextEvent<RejectedDetail>(w.replicaDb, 'entry:rejected', 'the outsider entry to be rejected', (d) => d.hash === entry.hash)
      await push(w.attacker, w.replica, w.ownerDb.address, entry.bytes)
      expect(await rejected).toMatchObject({ did: outsider.did, reason: 'not-a-writer' })
      expect(await collect(w.replicaDb.entries())).toEqual(before)
    })

    it('rejects an entry that claims the writer\'s DID but is signed by another key', async () => {
      const w = await world(setup)
      const before = await collect(w.replicaDb.entries())
      const forger = createDidKeyIdentity()
      const forged = await craftEntry({ address: w.ownerDb.address, payload: { op: 'PUT', key: 'from-writer', value: 'forged' }, signer: forger, claimedDid: w.writer.did })
      const rejected = nextEvent<RejectedDetail>(w.replicaDb, 'entry:rejected', 'the forged entry to be rejected', (d) => d.hash === forged.hash)
      await push(w.attacker, w.replica, w.ownerDb.address, forged.bytes)
      expect(await rejected).toMatchObject({ did: w.writer.did, reason: 'signer-mismatch' })
      expect(await collect(w.replicaDb.entries())).toEqual(before)
    })
  })
}
