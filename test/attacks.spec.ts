import { createDidKeyIdentity, type DidIdentity } from '@didbase/access'
import * as dagCbor from '@ipld/dag-cbor'
import { Entry } from '@orbitdb/core'
import type { RejectedDetail } from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { craftEntry, push } from './src/attacker.js'
import { collect, connect, nextEvent, peer, waitFor } from './src/peers.js'

/**
 * Hostile entries sent straight to a replica over gossipsub, not through didbase's write
 * path. Each must be refused there, reported as `entry:rejected`, and leave it unchanged.
 */
describe('attacks on a replica', () => {
  async function setup (ownerKey?: DidIdentity) {
    const owner = await peer(ownerKey === undefined ? {} : { identity: ownerKey })
    const replica = await peer()
    const attacker = await peer()
    await connect(replica, owner)
    await connect(attacker, replica)
    const db = await owner.keyValue<string>('guarded')
    await db.put('motto', 'honest')
    const onReplica = await replica.keyValue<string>(db.address)
    await waitFor(async () => (await onReplica.get('motto')) === 'honest', 'the honest write on the replica')
    // The attacker joins the database's topic like any peer.
    await attacker.keyValue(db.address)
    const before = await collect(onReplica.entries())
    return { owner, replica, attacker, db, onReplica, before }
  }

  it('rejects an entry signed by another key that claims the creator\'s DID', async () => {
    const { owner, replica, attacker, db, onReplica, before } = await setup()
    const forger = createDidKeyIdentity()
    const forged = await craftEntry({ address: db.address, payload: { op: 'PUT', key: 'motto', value: 'forged' }, signer: forger, claimedDid: owner.did })

    const rejected = nextEvent<RejectedDetail>(onReplica, 'entry:rejected', 'the forged entry to be rejected', (d) => d.hash === forged.hash)
    await push(attacker, replica, db.address, forged.bytes)
    const detail = await rejected

    expect(detail).toMatchObject({ hash: forged.hash, did: owner.did, reason: 'signer-mismatch' })
    expect(await onReplica.get('motto')).toBe('honest')
    expect(await collect(onReplica.entries())).toEqual(before)
    expect(await onReplica.size()).toBe(1)
  })

  it('rejects a correctly signed entry from a DID that may not write', async () => {
    const { replica, attacker, db, onReplica, before } = await setup()
    const outsider = createDidKeyIdentity()
    const entry = await craftEntry({ address: db.address, payload: { op: 'PUT', key: 'motto', value: 'outsider' }, signer: outsider })

    const rejected = nextEvent<RejectedDetail>(onReplica, 'entry:rejected', 'the outsider entry to be rejected', (d) => d.hash === entry.hash)
    await push(attacker, replica, db.address, entry.bytes)

    expect(await rejected).toMatchObject({ hash: entry.hash, did: outsider.did, reason: 'not-a-writer' })
    expect(await onReplica.get('motto')).toBe('honest')
    expect(await collect(onReplica.entries())).toEqual(before)
  })

  it('rejects an entry whose content was changed after the creator signed it', async () => {
    const ownerKey = createDidKeyIdentity()
    const { replica, attacker, db, onReplica, before } = await setup(ownerKey)
    const signed = await craftEntry({ address: db.address, payload: { op: 'PUT', key: 'motto', value: 'signed' }, signer: ownerKey })
    const tampered = await Entry.encode({ ...(await Entry.decode(signed.bytes)), payload: { op: 'PUT', key: 'motto', value: 'tampered' } })

    const rejected = nextEvent<RejectedDetail>(onReplica, 'entry:rejected', 'the tampered entry to be rejected', (d) => d.hash === tampered.hash)
    await push(attacker, replica, db.address, tampered.bytes)

    expect(await rejected).toMatchObject({ did: ownerKey.did, reason: 'bad-signature' })
    expect(await collect(onReplica.entries())).toEqual(before)
  })

  it('rejects well-formed CBOR that is not an entry', async () => {
    const { replica, attacker, db, onReplica, before } = await setup()
    const rejected = nextEvent<RejectedDetail>(onReplica, 'entry:rejected', 'the non-entry to be rejected')
    await push(attacker, replica, db.address, dagCbor.encode({ id: db.address, payload: 'x', next: 'not a list' }))

    expect(await rejected).toMatchObject({ reason: 'malformed-entry' })
    expect(await collect(onReplica.entries())).toEqual(before)
  })

  it('survives undecodable bytes on the topic and keeps replicating honest writes', async () => {
    const { replica, attacker, db, onReplica } = await setup()
    const reasons: string[] = []
    onReplica.addEventListener('entry:rejected', (e) => reasons.push(e.detail.reason))
    await push(attacker, replica, db.address, Uint8Array.from([0xff, 0x00, 0x13, 0x37]))
    await waitFor(() => reasons.length > 0, 'the garbage to be reported as a rejected entry')
    expect(reasons).toEqual(['malformed-entry'])

    await db.put('after', 'still works')
    await waitFor(async () => (await onReplica.get('after')) === 'still works', 'an honest write after the garbage')
  })
})
