/**
 * DID access control end to end: real peers over loopback, hostile entries crafted outside
 * didbase and sent straight to a replica. Every attack must be rejected there with its
 * reason, and leave the replica's records and roles as they were.
 */
import { createDidKeyIdentity, type DidIdentity } from '@didbase/access'
import { aclPayload, getBlock } from '@didbase/access/internal'
import * as dagCbor from '@ipld/dag-cbor'
import type { CreateOptions, Didbase, KeyValueDatabase, RejectedDetail } from '@didbase/sdk'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { craftEntry, push } from './src/attacker.js'
import { collect, connect, nextEvent, peer, waitFor } from './src/peers.js'
import { inviteClaims, signToken } from './src/tokens.js'

interface Scene {
  adminKey: DidIdentity
  admin: Didbase
  replica: Didbase
  attacker: Didbase
  adminDb: KeyValueDatabase<string>
  replicaDb: KeyValueDatabase<string>
}

async function scene (options: CreateOptions<string> = { acl: true }): Promise<Scene> {
  const adminKey = createDidKeyIdentity()
  const admin = await peer({ identity: adminKey })
  const replica = await peer()
  const attacker = await peer()
  await connect(replica, admin)
  await connect(attacker, replica)
  const adminDb = await admin.keyValue<string>('acl-board', options)
  await adminDb.put('motto', 'honest')
  const replicaDb = await replica.keyValue<string>(adminDb.address)
  await waitFor(async () => (await replicaDb.get('motto')) === 'honest', 'the admin\'s write on the replica')
  await attacker.keyValue(adminDb.address)
  return { adminKey, admin, replica, attacker, adminDb, replicaDb }
}

/** A new peer, connected to the admin, granted the writer role, with the database open. */
async function enrolled (s: Scene, key: DidIdentity = createDidKeyIdentity()): Promise<{ node: Didbase, db: KeyValueDatabase<string> }> {
  const node = await peer({ identity: key })
  await connect(node, s.admin)
  await s.adminDb.grant('writer', node.did)
  const db = await node.keyValue<string>(s.adminDb.address)
  await waitFor(async () => db.canWrite(), 'the grant to reach the new writer')
  return { node, db }
}

async function snapshot (db: KeyValueDatabase<string>) {
  return { records: await collect(db.entries()), roles: await db.roles(), heads: await db.heads() }
}

/** Push a raw entry to the replica and return the rejection it earns. */
async function rejectedOnReplica (s: Scene, entry: { hash: string, bytes: Uint8Array }): Promise<RejectedDetail> {
  const rejected = nextEvent<RejectedDetail>(s.replicaDb, 'entry:rejected', `entry ${entry.hash} to be rejected`, (d) => d.hash === entry.hash)
  await push(s.attacker, s.replica, s.adminDb.address, entry.bytes)
  return rejected
}

describe('mutable ACL between replicas', () => {
  it('grant, write, revoke: the revoked writer is refused locally and on every replica, its past stays', async () => {
    const s = await scene()
    const memberKey = createDidKeyIdentity()
    const { node: member, db: memberDb } = await enrolled(s, memberKey)
    await memberDb.put('by-member', 'before revocation')
    await waitFor(async () => (await s.replicaDb.get('by-member')) === 'before revocation', 'the member\'s write on the replica')

    const revocation = await s.adminDb.revoke('writer', member.did)
    await waitFor(async () => !(await memberDb.canWrite()), 'the revocation to reach the member')
    await expect(memberDb.put('by-member', 'after')).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-a-writer' })
    await waitFor(async () => (await s.replicaDb.heads()).includes(revocation), 'the revocation on the replica')
    expect((await s.replicaDb.roles()).writers).not.toContain(member.did)

    // The revoked member signs an entry on top of the revocation anyway and sends it directly.
    const before = await snapshot(s.replicaDb)
    const forged = await craftEntry({ address: s.adminDb.address, payload: { op: 'PUT', key: 'by-member', value: 'after revocation' }, signer: memberKey, next: [revocation] })
    expect(await rejectedOnReplica(s, forged)).toMatchObject({ did: member.did, reason: 'not-a-writer' })
    expect(await snapshot(s.replicaDb)).toEqual(before)

    // A replica that first syncs after the revocation still accepts what was written before it.
    const fresh = await peer()
    await connect(fresh, s.admin)
    const freshDb = await fresh.keyValue<string>(s.adminDb.address)
    // Heads are stored before the index catches up: wait for the value itself.
    await waitFor(async () => (await freshDb.heads()).includes(revocation) && (await freshDb.get('by-member')) === 'before revocation', 'the fresh replica to catch up')
    expect((await collect(freshDb.entries())).find((r) => r.key === 'by-member')?.writer).toBe(member.did)
  })

  it('refuses grants from a non-admin locally (typed error) and on the replica', async () => {
    const s = await scene({ acl: true, writers: ['*'] })
    const outsiderDb = await s.attacker.keyValue<string>(s.adminDb.address)
    await expect(outsiderDb.grant('admin', s.attacker.did)).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-an-admin' })
    await expect(outsiderDb.invite(s.attacker.did)).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-an-admin' })

    const mallory = createDidKeyIdentity()
    const before = await snapshot(s.replicaDb)
    const selfPromotion = await craftEntry({ address: s.adminDb.address, payload: aclPayload({ action: 'grant', role: 'admin', did: mallory.did, at: Date.now() }), signer: mallory, next: before.heads })
    expect(await rejectedOnReplica(s, selfPromotion)).toMatchObject({ did: mallory.did, reason: 'not-an-admin' })
    expect(await snapshot(s.replicaDb)).toEqual(before)
  })

  it('judges each local append on its own: a refused one does not poison the next', async () => {
    const s = await scene()
    // Below the SDK's checks, straight into OrbitDB: the controller is the last line.
    const orbit = (s.adminDb as unknown as { db: { addOperation: (op: unknown) => Promise<string> } }).db
    await expect(orbit.addOperation({ op: 'BOGUS', key: null, value: 1 })).rejects.toMatchObject({ name: 'EntryRejectedError', reason: 'invalid-operation' })
    await s.adminDb.put('after', 'still fine')
    expect((await s.adminDb.roles()).admins).toEqual([s.admin.did])
    await waitFor(async () => (await s.replicaDb.get('after')) === 'still fine', 'the next write on the replica')
  })

  it('converges: three replicas partitioned while granting, revoking and writing end identical', async () => {
    const s = await scene()
    const { node: b, db: bDb } = await enrolled(s)
    const { node: c, db: cDb } = await enrolled(s)

    // Partition: every replica on its own.
    for (const p of [b, c]) await p.helia.libp2p.hangUp(s.admin.helia.libp2p.peerId)
    await waitFor(() => s.admin.helia.libp2p.getConnections().every((conn) => ![b.peerId, c.peerId].includes(conn.remotePeer.toString())), 'the partition')
    await s.adminDb.revoke('writer', b.did) // concurrent with b's write below
    await bDb.put('from-b', 'written while partitioned')
    await cDb.put('from-c', 'c')
    await s.adminDb.put('from-admin', 'admin')

    // Heal. OrbitDB exchanges heads when peers meet but does not forward what it learnt that
    // way, so the others hear of the partitioned writes through the admin's next write,
    // which links to them.
    await connect(b, s.admin)
    await connect(c, s.admin)
    const heard = async (hash: string): Promise<boolean> => (await s.adminDb.heads()).includes(hash)
    const fromB = (await bDb.heads())[0] as string
    const fromC = (await cDb.heads())[0] as string
    await waitFor(async () => (await heard(fromB)) && (await heard(fromC)), 'the admin to hear both partitioned writes')
    await s.adminDb.put('healed', 'yes')
    const all = [s.adminDb, bDb, cDb, s.replicaDb]
    const states = await waitFor(async () => {
      const snapshots = await Promise.all(all.map(snapshot))
      const texts = snapshots.map((x) => JSON.stringify(x))
      return texts.every((t) => t === texts[0]) && (snapshots[0]?.records.length ?? 0) === 5 && snapshots
    }, 'every replica to hold the same log, records and roles')
    for (const state of states) expect(state).toEqual(states[0])
    // b's write was concurrent with its revocation, so it stands; b may not write any more.
    expect(await s.adminDb.get('from-b')).toBe('written while partitioned')
    expect(states[0]?.roles.writers).toEqual([c.did])
    await expect(bDb.put('from-b', 'again')).rejects.toMatchObject({ name: 'AccessDeniedError' })
  })
})

describe('invites between replicas', () => {
  it('an invited DID accepts and writes; the admin sees the record with its DID', async () => {
    const s = await scene()
    const guest = await peer()
    await connect(guest, s.admin)
    const token = await s.adminDb.invite(guest.did, { expiresIn: 60_000 })
    const guestDb = await guest.accept(token)
    expect(guestDb.address).toBe(s.adminDb.address)
    await (guestDb as KeyValueDatabase<string>).put('hello', 'from the guest')
    await waitFor(async () => (await s.replicaDb.get('hello')) === 'from the guest', 'the guest\'s write on the replica')
    expect((await collect(s.replicaDb.entries())).find((r) => r.key === 'hello')?.writer).toBe(guest.did)
  })

  it('a cancelled invite cannot be redeemed, and an expired one fails with InviteExpiredError', async () => {
    const s = await scene()
    const guest = await peer()
    await connect(guest, s.admin)
    const token = await s.adminDb.invite(guest.did)
    await s.adminDb.cancelInvite(token)
    const guestDb = await guest.keyValue<string>(s.adminDb.address)
    await waitFor(async () => (await guestDb.heads()).length > 0 && JSON.stringify(await guestDb.heads()) === JSON.stringify(await s.adminDb.heads()), 'the cancellation to reach the guest')
    await expect(guestDb.redeem(token)).rejects.toMatchObject({ name: 'InvalidInviteError', reason: 'invite-cancelled' })

    const expired = await signToken(s.adminKey, { alg: 'EdDSA', typ: 'JWT' }, inviteClaims(s.admin.did, s.adminDb.address, guest.did, { exp: Math.floor(Date.now() / 1000) - 60 }))
    await expect(guestDb.redeem(expired)).rejects.toMatchObject({ name: 'InviteExpiredError', reason: 'invite-expired' })
    expect(await guestDb.canWrite()).toBe(false)
  })

  it('rejects hostile redemptions on the replica: wrong audience, database, alg, kid, expiry, issuer', async () => {
    const s = await scene()
    const mallory = createDidKeyIdentity()
    const alice = createDidKeyIdentity()
    const address = s.adminDb.address
    const edHeader = { alg: 'EdDSA', typ: 'JWT' }
    const claims = (extra: Record<string, unknown> = {}) => inviteClaims(s.admin.did, address, mallory.did, extra)
    const hmac = async (): Promise<string> => {
      const { createHmac } = await import('node:crypto')
      const data = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}`
      return `${data}.${createHmac('sha256', s.admin.did).update(data).digest('base64url')}`
    }
    const attacks: Array<[string, string, string]> = [
      ['invite for another DID, redeemed by mallory', await s.adminDb.invite(alice.did), 'invalid-invite'],
      ['invite for another database', await signToken(s.adminKey, edHeader, claims({ didbase: { db: '/orbitdb/zdpuAnotherDatabase', role: 'writer' } })), 'invalid-invite'],
      ['unsigned token (alg none)', `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`, 'invalid-invite'],
      ['HS256 token', await hmac(), 'invalid-invite'],
      ['kid naming another DID', await signToken(s.adminKey, { ...edHeader, kid: `${mallory.did}#key` }, claims()), 'invalid-invite'],
      ['expired invite', await signToken(s.adminKey, edHeader, claims({ exp: Math.floor(Date.now() / 1000) - 60 })), 'invite-expired'],
      ['invite issued by a non-admin', await signToken(mallory, edHeader, { ...claims(), iss: mallory.did }), 'invalid-invite']
    ]
    const before = await snapshot(s.replicaDb)
    for (const [what, token, reason] of attacks) {
      const entry = await craftEntry({ address, payload: aclPayload({ action: 'redeem', token, at: Date.now() }), signer: mallory, next: before.heads })
      const detail = await rejectedOnReplica(s, entry)
      expect({ what, reason: detail.reason, did: detail.did }).toEqual({ what, reason, did: mallory.did })
    }
    expect(await snapshot(s.replicaDb)).toEqual(before)
  })
})

describe('per-record ownership between replicas', () => {
  it('a writer cannot change or delete a record another writer created; an admin can', async () => {
    const s = await scene({ acl: true, ownership: true })
    const { db: aliceDb } = await enrolled(s)
    const bobKey = createDidKeyIdentity()
    const { node: bob, db: bobDb } = await enrolled(s, bobKey)
    await aliceDb.put('note', 'alice\'s note')
    await waitFor(async () => (await bobDb.get('note')) === 'alice\'s note' && (await s.replicaDb.get('note')) === 'alice\'s note', 'alice\'s note everywhere')

    await expect(bobDb.put('note', 'bob was here')).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-the-owner' })
    await expect(bobDb.del('note')).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-the-owner' })

    const before = await snapshot(s.replicaDb)
    const takeover = await craftEntry({ address: s.adminDb.address, payload: { op: 'PUT', key: 'note', value: 'bob was here' }, signer: bobKey, next: before.heads })
    expect(await rejectedOnReplica(s, takeover)).toMatchObject({ did: bob.did, reason: 'not-the-owner' })
    expect(await snapshot(s.replicaDb)).toEqual(before)

    await waitFor(async () => (await s.adminDb.get('note')) === 'alice\'s note', 'the note on the admin')
    await s.adminDb.put('note', 'moderated')
    await waitFor(async () => (await s.replicaDb.get('note')) === 'moderated', 'the admin\'s edit on the replica')
    await aliceDb.put('note-2', 'mine too')
    await bobDb.put('bob-note', 'bob\'s own')
  })
})

describe('content-addressed policy', () => {
  it('refuses to open when the policy block or the manifest does not match its CID', async () => {
    const s = await scene()
    const manifestCid = CID.parse(s.adminDb.address.slice('/orbitdb/'.length), base58btc)
    const manifest = await getBlock(s.replica.helia.blockstore as never, manifestCid) as { accessController: string }
    const policyCid = CID.parse(manifest.accessController.split('/')[2] as string, base58btc)

    // A victim whose store holds other bytes under those CIDs: a policy that lets anyone
    // write, and a manifest of another database. (Helia checks blocks that come from peers,
    // so the bad bytes are put in the store directly, as a corrupt or tampered disk would.)
    const victim = await peer()
    await victim.helia.blockstore.put(policyCid, dagCbor.encode({ type: 'didbase-acl', admins: [victim.did], writers: ['*'] }))
    await connect(victim, s.admin)
    await expect(victim.keyValue(s.adminDb.address)).rejects.toMatchObject({ name: 'InvalidPolicyError' })

    const victim2 = await peer()
    await victim2.helia.blockstore.put(manifestCid, dagCbor.encode({ name: 'forged', type: 'keyvalue', accessController: manifest.accessController, meta: { didbase: 1 } }))
    await expect(victim2.keyValue(s.adminDb.address)).rejects.toMatchObject({ name: 'CorruptBlockError' })
  })
})
