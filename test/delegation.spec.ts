/**
 * One user, many devices and wallets, between real replicas over loopback. The wallet is a
 * viem local account behind an EIP-1193 provider (a browser wallet cannot run here: this is
 * the signer such a wallet uses, and the API a page talks to); the session clients are
 * didbase's own and the real `did-session` package.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { EthereumNodeAuth, getAccountId } from '@didtools/pkh-ethereum'
import { aclPayload } from '@didbase/access/internal'
import { createDidKeyIdentity, delegatedIdentity, delegateDevice, forgetSession, fromDidSession, keepSession, walletSession } from '@didbase/sdk'
import type { RejectedDetail } from '@didbase/sdk'
import type { Database } from '@orbitdb/core'
import { DIDSession } from 'did-session'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { craftEntry, push } from './src/attacker.js'
import { collect, connect, peer, tempDir, waitFor } from './src/peers.js'
import { walletProvider } from './src/wallets.js'

const raw = (handle: unknown): Database => (handle as { db: Database }).db

describe('delegated identities between replicas', () => {
  it('a wallet session writes for its did:pkh; the creator\'s replica and a third one accept it; records name the wallet', async () => {
    const wallet = walletProvider()
    const alice = await peer()
    const board = await alice.keyValue<string>('board', { writers: [alice.did, wallet.did] })
    const identity = await walletSession(wallet, { databases: [board.address], expiresIn: 3_600_000 })
    const app = await peer({ identity })
    expect(app.user).toBe(wallet.did)
    expect(app.did).toBe(identity.signer.did)
    await connect(app, alice)
    const mine = await app.keyValue<string>(board.address)
    await mine.put('hello', 'from the wallet')
    await waitFor(async () => (await board.get('hello')) === 'from the wallet', 'Alice to accept the wallet\'s write')
    const record = (await collect(board.entries())).find((r) => r.key === 'hello')
    expect(record?.writer).toBe(wallet.did)
    expect(await board.signerOf(record?.hash as string)).toBe(identity.signer.did)
    const third = await peer()
    await connect(third, alice)
    const copy = await third.keyValue<string>(board.address)
    await waitFor(async () => (await copy.get('hello')) === 'from the wallet', 'a third replica to accept it')
  })

  it('a wallet user redeems an invite with its session: one entry registers the session and grants the role; it writes, and every replica accepts both', async () => {
    const wallet = walletProvider()
    const alice = await peer()
    const team = await alice.keyValue<string>('team', { acl: true })
    const bob = await peer({ identity: await walletSession(wallet, { databases: [team.address], expiresIn: 3_600_000 }) })
    await connect(bob, alice)
    const token = await team.invite(bob.user, { role: 'writer' })
    const mine = await bob.accept(token) as typeof team
    expect(await mine.size()).toBe(1)
    expect(await mine.roles()).toMatchObject({ writers: [wallet.did] })
    await mine.put('hello', 'from a wallet invitee')
    // The redeem and the put: no separate session entry.
    expect(await mine.size()).toBe(2)
    await waitFor(async () => (await team.get('hello')) === 'from a wallet invitee', 'Alice to accept the invitee\'s write')
    expect((await team.roles()).writers).toEqual([wallet.did])
    const third = await peer()
    await connect(third, alice)
    const copy = await third.keyValue<string>(team.address)
    await waitFor(async () => (await copy.get('hello')) === 'from a wallet invitee', 'a third replica to accept the redeem and the write')
    const record = (await collect(copy.entries())).find((r) => r.key === 'hello')
    expect(record?.writer).toBe(wallet.did)
  })

  it('a wallet session kept for a directory signs after a restart (owner-only file); an expired one fails when the node starts; forgetting it brings back the directory\'s key', async () => {
    const wallet = walletProvider()
    const alice = await peer()
    const board = await alice.keyValue<string>('kept', { writers: [alice.did, wallet.did] })
    const directory = await tempDir()
    const session = await walletSession(wallet, { databases: [board.address], expiresIn: 3_600_000 })
    await keepSession(directory, session)
    expect((await stat(join(directory, 'session.json'))).mode & 0o777).toBe(0o600)
    const first = await peer({ directory })
    expect([first.user, first.did]).toEqual([wallet.did, session.signer.did])
    await first.close()
    const again = await peer({ directory })
    expect(again.did).toBe(session.signer.did)
    await connect(again, alice)
    await (await again.keyValue<string>(board.address)).put('k', 'after a restart')
    await waitFor(async () => (await board.get('k')) === 'after a restart', 'Alice to accept the restored session\'s write')
    await again.close()
    // Renewed with a session that has already expired: the node refuses to start with it.
    await keepSession(directory, await walletSession(wallet, { databases: [board.address], expiresIn: -1000 }))
    await expect(peer({ directory })).rejects.toMatchObject({ name: 'SessionExpiredError', reason: 'delegation-expired' })
    await forgetSession(directory)
    const own = await peer({ directory })
    expect(own.user).toBe(own.did)
    expect(own.did).not.toBe(session.signer.did)
  })

  it('a session made by did-session (a client nobody here wrote) writes, as it is', async () => {
    const account = privateKeyToAccount(generatePrivateKey())
    const wallet = walletProvider(account)
    const alice = await peer()
    // Named with the checksummed address a wallet shows: policies keep the canonical, lower-case form.
    const board = await alice.keyValue<string>('did-session', { writers: [`did:pkh:eip155:1:${account.address}`] })
    const accountId = await getAccountId(wallet as never, account.address)
    const authMethod = await EthereumNodeAuth.getAuthMethod(wallet as never, accountId, 'app.example.com')
    const session = await DIDSession.authorize(authMethod, { resources: [`didbase:${board.address}`], expiresInSecs: 3600 })
    const app = await peer({ identity: await fromDidSession(session) })
    expect(app.user).toBe(wallet.did)
    expect(app.did).toBe(session.did.id)
    await connect(app, alice)
    await (await app.keyValue<string>(board.address)).put('k', 'via did-session')
    await waitFor(async () => (await board.get('k')) === 'via did-session', 'Alice to accept the did-session write')
    const third = await peer()
    await connect(third, alice)
    const copy = await third.keyValue<string>(board.address)
    await waitFor(async () => (await copy.get('k')) === 'via did-session', 'a second replica to accept it')
  })

  it('a phone gets a key delegated by the root device (no secret leaves either); once revoked, its writes are refused everywhere', async () => {
    const rootKey = createDidKeyIdentity()
    const root = await peer({ identity: rootKey })
    const todos = await root.keyValue<string>('todos')
    const phoneKey = createDidKeyIdentity()
    // The phone sends its did:key; the root sends back a token.
    const token = await delegateDevice(rootKey, phoneKey.did, { scope: [todos.address], expiresIn: 3_600_000 })
    const phone = await peer({ identity: await delegatedIdentity(phoneKey, [token]) })
    expect(phone.user).toBe(rootKey.did)
    await connect(phone, root)
    const phoneTodos = await phone.keyValue<string>(todos.address)
    await phoneTodos.put('milk', 'from the phone')
    await waitFor(async () => (await todos.get('milk')) === 'from the phone', 'the root to accept the phone\'s write')

    await todos.revokeDevice(phoneKey.did)
    await waitFor(async () => JSON.stringify(await phoneTodos.heads()) === JSON.stringify(await todos.heads()), 'the phone to hold the revocation')
    await expect(phoneTodos.put('bread', 'after revocation')).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'device-revoked' })
    // The phone's key, used outside didbase's write path, is refused on the replica.
    const rejected: RejectedDetail[] = []
    todos.addEventListener('entry:rejected', (e) => { rejected.push(e.detail) })
    const before = await todos.heads()
    const forged = await craftEntry({ address: todos.address, payload: { op: 'PUT', key: 'bread', value: 'pushed', at: Date.now() }, signer: phoneKey, claimedDid: rootKey.did, next: before })
    await push(phone, root, todos.address, forged.bytes)
    await waitFor(() => rejected.length > 0, 'the root to reject the revoked phone\'s entry')
    expect(rejected[0]).toMatchObject({ hash: forged.hash, reason: 'device-revoked' })
    expect(await todos.heads()).toEqual(before)
    expect(await todos.get('milk')).toBe('from the phone')
    expect(await raw(todos).log.has(forged.hash)).toBe(false)
  })

  it('refuses, on the replica, sessions with an expired CACAO, one for another database, one changed after signing, one signed by another wallet, one for another chain, one replayed by another key, a device delegation not from the user, and a chain too long; nothing changes there', async () => {
    const wallet = walletProvider()
    const alice = await peer()
    const board = await alice.keyValue<string>('attacked', { acl: true })
    // Granted with a checksummed address: the grant names the canonical one.
    await board.grant('writer', wallet.did.replace(/0x[0-9a-f]{40}$/, (a) => a.toUpperCase().replace('0X', '0x')))
    expect((await board.roles()).writers).toEqual([wallet.did])
    await board.put('k', 'honest')
    const attacker = await peer()
    await connect(attacker, alice)
    const before = await board.heads()
    const session = async (proof: unknown[], signer = createDidKeyIdentity()) => craftEntry({ address: board.address, payload: aclPayload({ action: 'session', proof: proof as never, at: Date.now() }), signer, claimedDid: wallet.did, next: before })
    const expired = await walletSession(wallet, { databases: [board.address], expiresIn: -60_000 })
    const elsewhere = await walletSession(wallet, { databases: ['/orbitdb/zdpuAnotherDatabase'] })
    const good = await walletSession(wallet, { databases: [board.address] })
    const cacao = good.proof[0] as { p: Record<string, unknown> }
    const widened = { ...cacao, p: { ...cacao.p, resources: ['didbase:*'] } }
    const root = createDidKeyIdentity()
    const keys = [root, createDidKeyIdentity(), createDidKeyIdentity(), createDidKeyIdentity(), createDidKeyIdentity()]
    const long = await Promise.all(keys.slice(0, 4).map(async (k, i) => delegateDevice(k, (keys[i + 1] as typeof k).did)))
    // Another wallet's signature under this wallet's iss; the same wallet on another chain (another did:pkh).
    const other = await walletSession(walletProvider(), { databases: [board.address] })
    const otherCacao = other.proof[0] as { p: Record<string, unknown>, s: unknown }
    const forgedIss = { ...otherCacao, p: { ...otherCacao.p, iss: wallet.did } }
    const goerli = await walletSession({ ...wallet, request: async (a) => (a.method === 'eth_chainId' ? '0x5' : wallet.request(a)) }, { databases: [board.address] })
    // A device delegation for this wallet's DID can only come from the wallet: one signed by some did:key names that key as issuer.
    const notRoot = createDidKeyIdentity()
    const deviceKey = createDidKeyIdentity()
    const byNotRoot = await delegateDevice(notRoot, deviceKey.did)
    const attacks = {
      expired: await session([...expired.proof], expired.signer),
      elsewhere: await session([...elsewhere.proof], elsewhere.signer),
      widened: await session([widened], good.signer),
      replayed: await session([...good.proof]),
      tooLong: await session(long, keys[4]),
      otherWallet: await session([forgedIss], other.signer),
      otherChain: await session([...goerli.proof], goerli.signer),
      notTheRoot: await session([byNotRoot], deviceKey)
    }
    const rejected: RejectedDetail[] = []
    board.addEventListener('entry:rejected', (e) => { rejected.push(e.detail) })
    for (const attack of Object.values(attacks)) await push(attacker, alice, board.address, attack.bytes)
    await waitFor(() => rejected.length === 8, 'Alice to reject the eight sessions')
    expect(Object.fromEntries(rejected.map((r) => [r.hash, r.reason]))).toEqual({
      [attacks.expired.hash]: 'delegation-expired',
      [attacks.elsewhere.hash]: 'invalid-delegation',
      [attacks.widened.hash]: 'invalid-delegation',
      [attacks.replayed.hash]: 'invalid-delegation',
      [attacks.tooLong.hash]: 'invalid-delegation',
      [attacks.otherWallet.hash]: 'invalid-delegation',
      [attacks.otherChain.hash]: 'invalid-delegation',
      [attacks.notTheRoot.hash]: 'invalid-delegation'
    })
    expect(await board.heads()).toEqual(before)
    expect(await board.get('k')).toBe('honest')
  })
})
