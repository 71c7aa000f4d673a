/**
 * Private databases with an ACL between real replicas over loopback: readers granted,
 * invited and revoked, key epochs rotated on revocation, keys shared with members that lack
 * them, and attacks pushed straight to a replica.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createDidKeyIdentity, type DidKeyIdentity } from '@didbase/access'
import { aclPayload, epochField, epochLabel, GENESIS_EPOCH, type Keyring, openSealed, seal } from '@didbase/access/internal'
import { delegatedIdentity, delegateDevice, type KeyValueDatabase, type RejectedDetail, type UnreadableDetail, walletSession } from '@didbase/sdk'
import * as dagCbor from '@ipld/dag-cbor'
import type { Database, LogEntry } from '@orbitdb/core'
import { describe, expect, it } from 'vitest'
import { craftEntry, push } from './src/attacker.js'
import { collect, connect, peer, tempDir, waitFor } from './src/peers.js'
import { walletProvider } from './src/wallets.js'

const raw = (handle: unknown): Database => (handle as { db: Database }).db
/** A member's keyring: what a member holding the replica can use to craft entries, or try keys with. */
const keyringOf = (handle: unknown): Keyring => (handle as { vault: { keyring: Keyring } }).vault.keyring

async function bytesUnder (dir: string): Promise<Buffer[]> {
  const out: Buffer[] = []
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out.push(await readFile(join(entry.parentPath, entry.name)))
  }
  return out
}

/** What `db` reads for `key`, or undefined while its replica holds no grant for it yet (reads fail with not-a-reader until then). */
async function once (db: KeyValueDatabase<string>, key: string): Promise<string | undefined> {
  return db.get(key).catch((err: { reason?: string }) => {
    if (err.reason === 'not-a-reader') return undefined
    throw err
  })
}

async function sameHeads (a: KeyValueDatabase<unknown>, b: KeyValueDatabase<unknown>): Promise<boolean> {
  return JSON.stringify(await a.heads()) === JSON.stringify(await b.heads())
}

describe('private database with an ACL', () => {
  it('a revoked reader reads what came before and nothing after, with any key it ever held; a replicator that is not a member agrees and learns nothing', async () => {
    const alice = await peer()
    const bob = await peer()
    const replicatorDir = await tempDir()
    const replicator = await peer({ directory: replicatorDir })
    const team = await alice.keyValue<string>('team', { acl: true, private: true })
    expect(team.private).toBe(true)
    await team.put('MARKER-KEY-before', 'MARKER-VALUE-before')
    await team.grant('reader', bob.did)
    expect((await team.roles()).readers).toEqual([bob.did])

    await connect(bob, alice)
    const bobTeam = await bob.keyValue<string>(team.address)
    await waitFor(async () => (await once(bobTeam, 'MARKER-KEY-before')) === 'MARKER-VALUE-before', 'Bob to read what Alice wrote')
    await expect(bobTeam.put('mine', 'no')).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-a-writer' })

    await team.revoke('reader', bob.did)
    expect((await team.roles()).readers).toEqual([])
    const afterHash = await team.put('MARKER-KEY-after', 'MARKER-VALUE-after')
    await waitFor(async () => sameHeads(bobTeam, team), 'Bob to hold the entries after his revocation')
    const unreadable: UnreadableDetail[] = []
    bobTeam.addEventListener('entry:unreadable', (e) => { unreadable.push(e.detail) })
    expect(await bobTeam.get('MARKER-KEY-after')).toBeUndefined()
    expect(unreadable).toEqual([expect.objectContaining({ hash: afterHash, reason: 'no-key' })])
    expect(await bobTeam.get('MARKER-KEY-before')).toBe('MARKER-VALUE-before')
    expect((await collect(bobTeam.entries())).map((r) => r.key)).toEqual(['MARKER-KEY-before'])

    // Every key Bob ever held, tried on the value written after his revocation.
    const ring = keyringOf(bobTeam)
    const after = (await raw(bobTeam).log.get(afterHash)) as LogEntry
    const sealed = (after.payload as { key: string, value: { nonce: Uint8Array, ciphertext: Uint8Array, e: string[] } })
    expect(sealed.value.e).toHaveLength(1)
    await expect(ring.epochKey(sealed.value.e[0] as string)).rejects.toMatchObject({ name: 'DecryptionError' })
    const held = [await ring.epochKey(GENESIS_EPOCH), await ring.sealingKey([GENESIS_EPOCH])]
    for (const key of held) {
      for (const epoch of [0, sealed.value.e.join(' ')]) {
        expect(() => openSealed(key, sealed.value, { address: team.address, epoch, record: sealed.key })).toThrow()
      }
    }

    // A replicator that syncs later, and is no member, takes every entry and reads none.
    await connect(replicator, alice)
    const held2 = await replicator.keyValue<string>(team.address)
    const rejected: RejectedDetail[] = []
    held2.addEventListener('entry:rejected', (e) => { rejected.push(e.detail) })
    await waitFor(async () => sameHeads(held2, team), 'the replicator to hold every entry')
    expect(rejected).toEqual([])
    expect(await held2.size()).toBe(await team.size())
    await expect(held2.get('MARKER-KEY-before')).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-a-reader' })
    await replicator.close()
    for (const bytes of await bytesUnder(replicatorDir)) expect(bytes.includes('MARKER-')).toBe(false)
  })

  it('a revoked writer\'s next write is refused as not-a-writer, saying it was revoked, not told to wait for a key', async () => {
    const alice = await peer()
    const bob = await peer()
    const team = await alice.keyValue<string>('team-revoked-writer', { acl: true, private: true })
    await team.grant('writer', bob.did)
    await connect(bob, alice)
    const bobTeam = await bob.keyValue<string>(team.address)
    // Bob writes once his replica holds the grant and the key.
    await waitFor(async () => bobTeam.put('bob', 'while a writer').then(() => true, () => false), 'Bob to write as a writer')
    await waitFor(async () => (await team.get('bob')) === 'while a writer', 'Bob\'s write on Alice\'s replica')
    await team.revoke('writer', bob.did)
    await waitFor(async () => sameHeads(bobTeam, team), 'Bob\'s replica to hold his revocation and the key rotation')
    const refused = await bobTeam.put('bob', 'after').then(() => undefined, (err: Error & { reason?: string }) => err)
    expect(refused).toMatchObject({ name: 'AccessDeniedError', reason: 'not-a-writer' })
    expect(refused?.message).toContain('an admin revoked it')
    expect(refused?.message).not.toContain('shares it')
    expect(await team.get('bob')).toBe('while a writer')
  })

  it('an invitee reads as soon as it redeems; one invited before a rotation reads what follows it after one sync with an admin', async () => {
    const alice = await peer()
    const carol = await peer()
    const dave = await peer()
    const team = await alice.keyValue<string>('invites', { acl: true, private: true })
    const early = await team.invite(carol.did, { role: 'reader' })
    await team.put('x', 'before the rotation')
    await team.rotateKey()
    await team.put('y', 'after the rotation')
    const late = await team.invite(dave.did, { role: 'reader' })

    await connect(dave, alice)
    const daveTeam = await dave.keyValue<string>(team.address)
    await waitFor(async () => sameHeads(daveTeam, team), 'Dave to hold the log')
    await daveTeam.redeem(late)
    // The invite carried the current key: Dave reads everything at once, history included.
    expect(await daveTeam.get('y')).toBe('after the rotation')
    expect(await daveTeam.get('x')).toBe('before the rotation')

    await connect(carol, alice)
    const carolTeam = await carol.keyValue<string>(team.address)
    await waitFor(async () => sameHeads(carolTeam, team), 'Carol to hold the log')
    await carolTeam.redeem(early)
    expect(await carolTeam.get('x')).toBe('before the rotation')
    // Carol's invite holds the key of the epoch before the rotation; Alice shares the current one.
    await waitFor(async () => (await carolTeam.get('y')) === 'after the rotation', 'Alice to share the current key with Carol')
    expect((await team.membersLackingKeys()).size).toBe(0)
    expect((await carolTeam.roles()).readers).toEqual([carol.did, dave.did].sort())
  })

  it('refuses, on the replica, a value under a stale epoch, a reader\'s write, and key shares from a non-admin or for a stranger; nothing changes there', async () => {
    const aliceKey = createDidKeyIdentity()
    const carolKey: DidKeyIdentity = createDidKeyIdentity()
    const alice = await peer({ identity: aliceKey })
    const carol = await peer({ identity: carolKey })
    const bob = await peer()
    const team = await alice.keyValue<string>('attacks', { acl: true, private: true, readers: [bob.did] })
    await team.grant('writer', carol.did)
    await team.put('k', 'v')
    await connect(carol, alice)
    const carolTeam = await carol.keyValue<string>(team.address)
    await waitFor(async () => (await once(carolTeam, 'k')) === 'v', 'Carol to read')
    await team.rotateKey()
    await waitFor(async () => sameHeads(carolTeam, team), 'Carol to hold the rotation')
    const before = await team.heads()
    const ring = keyringOf(carolTeam)
    const blinded = await (carolTeam as unknown as { vault: { blind: (k: string) => Promise<string> } }).vault.blind('k')
    const next = await team.heads()
    const sealedUnder = async (epochs: string[]): Promise<unknown> => ({
      v: 1,
      ...seal(await ring.sealingKey(epochs), dagCbor.encode({ key: 'k', value: 'stale' }), { address: team.address, epoch: epochLabel(epochs), record: blinded }),
      ...epochField(epochs)
    })
    const attacks = {
      stale: await craftEntry({ address: team.address, payload: { op: 'PUT', key: blinded, value: await sealedUnder([GENESIS_EPOCH]) }, signer: carolKey, next }),
      shareByWriter: await craftEntry({ address: team.address, payload: aclPayload({ action: 'share', keys: await ring.sharesFor([carolKey.did], [GENESIS_EPOCH]), at: Date.now() }), signer: carolKey, next }),
      shareForStranger: await craftEntry({ address: team.address, payload: aclPayload({ action: 'share', keys: await keyringOf(team).sharesFor([createDidKeyIdentity().did], [GENESIS_EPOCH]), at: Date.now() }), signer: aliceKey, next })
    }
    await connect(bob, alice)
    const bobTeam = await bob.keyValue<string>(team.address)
    await waitFor(async () => sameHeads(bobTeam, team), 'Bob to hold the log')
    await expect(bobTeam.put('k', 'mine')).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-a-writer' })

    const rejected: RejectedDetail[] = []
    team.addEventListener('entry:rejected', (e) => { rejected.push(e.detail) })
    for (const attack of Object.values(attacks)) await push(carol, alice, team.address, attack.bytes)
    await waitFor(() => rejected.length === 3, 'Alice to reject the three entries')
    expect(Object.fromEntries(rejected.map((r) => [r.hash, r.reason]))).toEqual({
      [attacks.stale.hash]: 'stale-key',
      [attacks.shareByWriter.hash]: 'not-an-admin',
      [attacks.shareForStranger.hash]: 'invalid-operation'
    })
    expect(await team.heads()).toEqual(before)
    expect(await team.get('k')).toBe('v')
  })
})

describe('private database with delegated devices', () => {
  it('a member\'s phone (a delegated key) is handed the keys by an admin and reads and writes; once the phone is revoked, what follows is sealed without it', async () => {
    const aliceKey = createDidKeyIdentity()
    const alice = await peer({ identity: aliceKey })
    const team = await alice.keyValue<string>('devices', { acl: true, private: true })
    await team.put('before', 'MARKER-before')
    const phoneKey = createDidKeyIdentity()
    const phone = await peer({ identity: await delegatedIdentity(phoneKey, [await delegateDevice(aliceKey, phoneKey.did)]) })
    await connect(phone, alice)
    const onPhone = await phone.keyValue<string>(team.address)
    // The phone registers its delegation; Alice's node sees a member's device without the key and shares it.
    await waitFor(async () => (await once(onPhone, 'before')) === 'MARKER-before', 'the phone to be handed the key and read')
    await onPhone.put('from-phone', 'written on the phone')
    await waitFor(async () => (await team.get('from-phone')) === 'written on the phone', 'Alice to read the phone\'s write')

    await team.revokeDevice(phoneKey.did)
    const afterHash = await team.put('after', 'MARKER-after')
    await waitFor(async () => sameHeads(onPhone, team), 'the phone to hold the revocation')
    const unreadable: UnreadableDetail[] = []
    onPhone.addEventListener('entry:unreadable', (e) => { unreadable.push(e.detail) })
    expect(await onPhone.get('after')).toBeUndefined()
    expect(unreadable).toEqual([expect.objectContaining({ hash: afterHash, reason: 'no-key' })])
    expect(await onPhone.get('before')).toBe('MARKER-before')
    await expect(onPhone.put('again', 'no')).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'device-revoked' })
    expect((await team.membersLackingKeys()).size).toBe(0)
  })
})

describe('private database with wallet members', () => {
  it('a wallet invited with its session key reads at once, from a replica, with no admin online; its writes are sealed (the replicator stores them, unreadable)', async () => {
    const wallet = walletProvider()
    const alice = await peer()
    const team = await alice.keyValue<string>('wallet-team', { acl: true, private: true })
    await team.put('plan', 'MARKER-plan')
    const keeper = await peer()
    await connect(keeper, alice)
    const kept = await keeper.keyValue<string>(team.address)
    await waitFor(async () => sameHeads(kept, team), 'the replicator to hold the log')
    const bob = await peer({ identity: await walletSession(wallet, { databases: [team.address] }) })
    const token = await team.invite(bob.user, { role: 'writer', sessionKey: bob.did })
    await alice.close()
    await connect(bob, keeper)
    const bobTeam = await bob.accept(token) as KeyValueDatabase<string>
    await waitFor(async () => (await bobTeam.get('plan')) === 'MARKER-plan', 'Bob\'s session to read what Alice wrote, from the replicator')
    await bobTeam.put('from-bob', 'sealed by a wallet session')
    // Not on the replicator's disk in the clear, though it stores and judges the entry.
    await waitFor(async () => sameHeads(kept, bobTeam), 'the replicator to hold Bob\'s write')
    await expect(kept.get('from-bob')).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'not-a-reader' })
  })

  it('a granted wallet\'s sessions are handed the keys by an admin\'s node; revoking a session stops it, revoking the wallet starts an epoch without it', async () => {
    const wallet = walletProvider()
    const alice = await peer()
    const team = await alice.keyValue<string>('wallet-grant', { acl: true, private: true })
    await team.put('before', 'MARKER-before')
    await team.grant('reader', wallet.did)
    expect((await team.roles()).readers).toEqual([wallet.did])
    const laptop = await peer({ identity: await walletSession(wallet, { databases: [team.address] }) })
    const phone = await peer({ identity: await walletSession(wallet, { databases: [team.address] }) })
    await connect(laptop, alice)
    await connect(phone, alice)
    const onLaptop = await laptop.keyValue<string>(team.address)
    const onPhone = await phone.keyValue<string>(team.address)
    // Each session registers; Alice's node sees a member's key without the epoch key and shares it.
    await waitFor(async () => (await once(onLaptop, 'before')) === 'MARKER-before', 'the laptop\'s session to be handed the key')
    await waitFor(async () => (await once(onPhone, 'before')) === 'MARKER-before', 'the phone\'s session to be handed the key')
    // The phone's session signs out (a lost phone: a newer session of the wallet may take it back too).
    const signedOut = await onPhone.revokeDevice(phone.did)
    // Alice's node sees a revoked key that holds the current epoch key and starts a new epoch on top of it.
    await waitFor(async () => {
      const heads = await team.heads()
      return heads.length === 1 && heads[0] !== signedOut && await raw(team).log.has(signedOut)
    }, 'Alice\'s node to start a new epoch without the phone')
    await waitFor(async () => (await sameHeads(team, onLaptop)) && (await team.membersLackingKeys()).size === 0, 'the new epoch to reach the laptop, with its key')
    const afterSession = await team.put('after-session', 'MARKER-after-session')
    await waitFor(async () => (await sameHeads(team, onPhone)) && (await sameHeads(team, onLaptop)), 'the write to reach both sessions')
    expect(await onLaptop.get('after-session')).toBe('MARKER-after-session')
    const unreadable: UnreadableDetail[] = []
    onPhone.addEventListener('entry:unreadable', (e) => { unreadable.push(e.detail) })
    expect(await onPhone.get('after-session')).toBeUndefined()
    expect(unreadable).toEqual([expect.objectContaining({ hash: afterSession, reason: 'no-key' })])
    // The wallet itself is revoked: a new epoch, wrapped for no key of it.
    await team.revoke('reader', wallet.did)
    const afterWallet = await team.put('after-wallet', 'MARKER-after-wallet')
    await waitFor(async () => (await onLaptop.heads()).includes(afterWallet), 'the laptop to hold the revocation and the write')
    const lockedOut: UnreadableDetail[] = []
    onLaptop.addEventListener('entry:unreadable', (e) => { lockedOut.push(e.detail) })
    expect(await onLaptop.get('after-wallet')).toBeUndefined()
    expect(lockedOut).toEqual([expect.objectContaining({ hash: afterWallet, reason: 'no-key' })])
    expect(await onLaptop.get('before')).toBe('MARKER-before')
    expect(await team.get('after-wallet')).toBe('MARKER-after-wallet')
  })
})
