/**
 * The journey matrix: a member writes, and others read, where features meet.
 *
 *   identity  did:key, a device key delegated by a did:key, a wallet session
 *             (`walletSession` over a viem account behind EIP-1193), a did-session session
 *   policy    fixed writers, ACL (the member joins with an invite), ACL + private (invite)
 *   type      key-value, documents, event log
 *   write     one write, a burst of three (group commit), `db.batch`
 *   reader    the creator live, a replica that joins later, the creator restarted from disk
 *
 * Key-value and document readers declare query indexes and read the member's writes with a
 * query too (by writer, sorted, a page at a time), and the creator watches that query live
 * from before the member writes.
 *
 * The full product is 324 cases (about 10 minutes here); `pairwise` keeps every pair of
 * values of two dimensions (about 16 cases, under a minute). Every node runs with
 * anti-entropy and exchange retries off (`resync`), so what only a resync would bring never
 * arrives: a write that misses the live path hangs the case to the suite's timeout.
 *
 * Each case asserts what a user sees: the values read back on the reader, `writer` the user
 * DID, `signerOf` the member's signing key, a stranger's entry refused with its reason and
 * nothing changed, and, once the member signs out (a delegated key revokes itself) or is
 * revoked, its key refused locally and on the creator's replica.
 *
 * New features join as a dimension or a value.
 */
import { createDidKeyIdentity, type Didbase, type DidIdentity, type DelegatedIdentity, delegatedIdentity, delegateDevice, type DocumentsDatabase, type EventLogDatabase, type KeyValueDatabase, type RejectedDetail, walletSession } from '@didbase/sdk'
import type { Database } from '@orbitdb/core'
import { describe, expect, it } from 'vitest'
import { craftEntry, push } from './src/attacker.js'
import { pairwise } from './src/pairwise.js'
import { collect, connect, nextEvent, peer, tempDir, waitFor } from './src/peers.js'
import { didSessionFor, walletProvider } from './src/wallets.js'

const dims = {
  identity: ['did:key', 'device', 'wallet', 'did-session'],
  policy: ['fixed', 'acl', 'private'],
  type: ['keyvalue', 'documents', 'eventlog'],
  write: ['single', 'burst', 'batch'],
  reader: ['live', 'later', 'restart']
} as const
type Case = { [K in keyof typeof dims]: (typeof dims)[K][number] }

const cases = pairwise(dims)

/** Only the live path: what a resync would bring never comes. */
const LIVE_ONLY = { intervalMs: 0, retry: false }
/** No deadline of the case's own: past the test's timeout (60 s), so that is the one that fails it. */
const NO_DEADLINE = 10 * 60_000

interface User {
  did: string
  /** The identity the member's node signs with, for the database at `address`. */
  identity: (address: string) => Promise<DidIdentity>
}

function userOf (kind: Case['identity']): User {
  if (kind === 'did:key') {
    const key = createDidKeyIdentity()
    return { did: key.did, identity: async () => key }
  }
  if (kind === 'device') {
    const root = createDidKeyIdentity()
    return {
      did: root.did,
      identity: async (address) => {
        const device = createDidKeyIdentity()
        return delegatedIdentity(device, [await delegateDevice(root, device.did, { scope: [address], expiresIn: 3_600_000 })])
      }
    }
  }
  const wallet = walletProvider()
  return {
    did: wallet.did,
    identity: async (address) => (kind === 'wallet' ? walletSession(wallet, { databases: [address], expiresIn: 3_600_000 }) : didSessionFor(wallet, address))
  }
}

type Db = KeyValueDatabase<unknown> | DocumentsDatabase<{ _id: string, n: number }> | EventLogDatabase<unknown>
interface Row { id: string, value: unknown, writer: string, hash: string, time?: number }

/** Indexes every key-value and document reader keeps: queries by writer and by value read them. */
const INDEXES = [['writer', 'value.n'], ['value.n']] as const

async function open (node: Didbase, type: Case['type'], nameOrAddress: string, options: object = {}): Promise<Db> {
  if (type === 'keyvalue') return node.keyValue(nameOrAddress, { ...options, indexes: INDEXES })
  if (type === 'documents') return node.documents<{ _id: string, n: number }>(nameOrAddress, { ...options, indexes: INDEXES })
  return node.eventLog(nameOrAddress, options)
}

type Records = KeyValueDatabase<{ n: number }>
const queryOf = (user: string) => ({ where: { writer: user }, sort: [['value.n', 'desc']] as const, limit: 2 })

/** The reader's query for `user`'s records, page by page, gives the ids of `expected` by value, highest first, through an index. */
async function queried (db: Db, type: Case['type'], expected: Map<string, unknown>, user: string): Promise<void> {
  if (type === 'eventlog') return
  const records = db as unknown as Records
  expect(records.explain(queryOf(user))).toMatchObject({ strategy: 'index-order', index: ['writer', 'value.n'] })
  const ids: string[] = []
  let after: string | undefined
  do {
    const page = await records.find({ ...queryOf(user), ...(after !== undefined ? { after } : {}) })
    ids.push(...page.records.map((r) => r.key))
    after = page.cursor
  } while (after !== undefined)
  const byValue = [...expected.entries()].sort(([, a], [, b]) => (b as { n: number }).n - (a as { n: number }).n).map(([id]) => id)
  expect(ids).toEqual(byValue)
  expect(await records.count({ writer: user })).toBe(expected.size)
}

/** Watch the query for `user`'s records on `db`: resolves with the first page that holds all of `expected`. */
function watched (db: Db, type: Case['type'], expected: Map<string, unknown>, user: string): Promise<void> | undefined {
  if (type === 'eventlog') return undefined
  const controller = new AbortController()
  return new Promise<void>((resolve, reject) => {
    (db as unknown as Records).watch({ ...queryOf(user), limit: 10 }, {
      signal: controller.signal,
      onError: reject,
      onPage: (page) => {
        if (![...expected.keys()].every((id) => page.records.some((r) => r.key === id))) return
        controller.abort()
        resolve()
      }
    })
  })
}

async function rows (db: Db): Promise<Row[]> {
  const all = await collect((db as KeyValueDatabase<unknown>).entries() as AsyncIterable<{ key?: string, hash: string, value: unknown, writer: string, time?: number }>)
  return all.map((r) => ({ id: r.key ?? JSON.stringify(r.value), value: r.value, writer: r.writer, hash: r.hash, time: r.time })).sort((a, b) => a.id.localeCompare(b.id))
}

/** Write `count` values as the case says; the values the reader must then hold, by id. */
async function write (db: Db, type: Case['type'], how: Case['write'], from: number): Promise<Map<string, unknown>> {
  const count = how === 'single' ? 1 : how === 'burst' ? 3 : 2
  const values = Array.from({ length: count }, (_, i) => ({ n: from + i }))
  const id = (v: { n: number }): string => (type === 'eventlog' ? JSON.stringify(v) : `r${v.n}`)
  const expected = new Map(values.map((v) => [id(v), type === 'documents' ? { _id: id(v), ...v } : v]))
  const one = async (v: { n: number }): Promise<string> => {
    if (type === 'keyvalue') return (db as KeyValueDatabase<unknown>).put(id(v), v)
    if (type === 'documents') return (db as DocumentsDatabase<{ _id: string, n: number }>).put({ _id: id(v), ...v })
    return (db as EventLogDatabase<unknown>).add(v)
  }
  if (how === 'batch') {
    if (type === 'keyvalue') await (db as KeyValueDatabase<unknown>).batch((b) => { for (const v of values) b.put(id(v), v) })
    else if (type === 'documents') await (db as DocumentsDatabase<{ _id: string, n: number }>).batch((b) => { for (const v of values) b.put({ _id: id(v), ...v }) })
    else await (db as EventLogDatabase<unknown>).batch((b) => { for (const v of values) b.add(v) })
  } else {
    await Promise.all(values.map(one))
  }
  return expected
}

/**
 * The reader holds every value of `expected`, each written by `user`, and with the time it
 * was written when `dated` (every write but a private database's signed with the DID's own key).
 */
async function holds (db: Db, expected: Map<string, unknown>, user: string, dated: boolean): Promise<Row[] | false> {
  const held = (await rows(db)).filter((r) => expected.has(r.id))
  if (held.length < expected.size) return false
  for (const r of held) {
    expect(r.value).toEqual(expected.get(r.id))
    expect(r.writer).toBe(user)
    if (dated) expect(r.time).toBeGreaterThan(Date.now() - 10 * 60_000)
    else expect(r.time).toBeUndefined()
  }
  return held
}

function payloadFor (type: Case['type'], n: number): unknown {
  if (type === 'keyvalue') return { op: 'PUT', key: `r${n}`, value: { n } }
  if (type === 'documents') return { op: 'PUT', key: `r${n}`, value: { _id: `r${n}`, n } }
  return { op: 'ADD', key: null, value: { n } }
}

/** `signer` pushes an entry claiming `claimed` straight to `target`'s replica: refused there with `reason`, nothing changes. */
async function refusedOn (target: { node: Didbase, db: Db }, from: Didbase, type: Case['type'], signer: DidIdentity, claimed: string, reason: string): Promise<void> {
  const before = await target.db.heads()
  const rowsBefore = await rows(target.db)
  const forged = await craftEntry({ address: target.db.address, payload: { ...(payloadFor(type, 999) as object), at: Date.now() }, signer, claimedDid: claimed, next: before })
  const refused = nextEvent<RejectedDetail>(target.db, 'entry:rejected', `the replica to refuse ${forged.hash}`, (d) => d.hash === forged.hash, NO_DEADLINE)
  await push(from, target.node, target.db.address, forged.bytes)
  expect(await refused).toMatchObject({ hash: forged.hash, reason })
  // Heads may move meanwhile (an admin's node shares a key, say): the forged entry is nowhere.
  expect(await target.db.heads()).not.toContain(forged.hash)
  expect(await (target.db as unknown as { db: Database }).db.log.has(forged.hash)).toBe(false)
  expect(await rows(target.db)).toEqual(rowsBefore)
}

const sameHeads = async (a: Db, b: Db): Promise<boolean> => JSON.stringify(await a.heads()) === JSON.stringify(await b.heads())

describe(`journey matrix (${cases.length} pairwise cases of ${Object.values(dims).reduce((n, d) => n * d.length, 1)})`, () => {
  it('covers every pair of values of two dimensions', () => {
    for (const [a, x] of Object.entries(dims)) {
      for (const [b, y] of Object.entries(dims)) {
        if (a >= b) continue
        for (const u of x) for (const v of y) expect(cases.some((c) => c[a as keyof Case] === u && c[b as keyof Case] === v), `${a}=${u} with ${b}=${v}`).toBe(true)
      }
    }
  })

  it.each(cases)('$identity × $policy × $type × $write × read $reader', async (c) => {
    const aliceKey = createDidKeyIdentity()
    const aliceDir = await tempDir()
    let alice = await peer({ directory: aliceDir, identity: aliceKey, resync: LIVE_ONLY })
    const user = userOf(c.identity)
    const policy = c.policy === 'fixed' ? { writers: [aliceKey.did, user.did] } : { acl: true, ...(c.policy === 'private' ? { private: true } : {}) }
    let db = await open(alice, c.type, `journey-${c.type}`, policy)
    const identity = await user.identity(db.address)
    const member = await peer({ identity, resync: LIVE_ONLY })
    expect(member.user).toBe(user.did)
    await connect(member, alice)
    let mine: Db
    if (c.policy === 'fixed') {
      mine = await open(member, c.type, db.address)
    } else {
      // In a private database the invite's keys are wrapped for the key that redeems it (a wallet holds none itself).
      mine = await member.accept(await db.invite(user.did, { role: 'writer', ...(c.policy === 'private' ? { sessionKey: member.did } : {}) })) as Db
      expect((await mine.roles()).writers).toContain(user.did)
      // A device of an invited user is handed the key by an admin's node once its delegation is registered.
      if (c.policy === 'private') await waitFor(async () => (await db.membersLackingKeys()).size === 0 && await sameHeads(db, mine), 'the member\'s key to be shared', NO_DEADLINE)
    }

    const ids = new Map(Array.from({ length: c.write === 'single' ? 1 : c.write === 'burst' ? 3 : 2 }, (_, i) => [`r${i + 1}`, null]))
    const watching = watched(db, c.type, ids, user.did)
    const expected = await write(mine, c.type, c.write, 1)
    const dated = !(c.policy === 'private' && c.identity === 'did:key')
    const live = await waitFor(async () => holds(db, expected, user.did, dated), 'the creator to hold the member\'s write, by the live path', NO_DEADLINE)
    // The creator's live query saw the write arrive.
    await watching
    for (const r of live) expect(await db.signerOf(r.hash)).toBe(member.did)

    let reader = db
    let readerNode = alice
    if (c.reader === 'later') {
      // Another device of the creator: it reads a private database too.
      readerNode = await peer({ identity: aliceKey, resync: LIVE_ONLY })
      await connect(readerNode, alice)
      reader = await open(readerNode, c.type, db.address)
      await waitFor(async () => holds(reader, expected, user.did, dated), 'a replica that joins later to hold the write', NO_DEADLINE)
    } else if (c.reader === 'restart') {
      await alice.close()
      alice = await peer({ directory: aliceDir, identity: aliceKey, resync: LIVE_ONLY })
      db = await open(alice, c.type, db.address)
      reader = db
      readerNode = alice
      expect(await holds(db, expected, user.did, dated)).not.toBe(false)
      await connect(member, alice)
      await waitFor(async () => sameHeads(db, mine), 'the member and the restarted creator to meet again', NO_DEADLINE)
    }
    await queried(reader, c.type, expected, user.did)

    const outsider = await peer({ resync: LIVE_ONLY })
    await connect(outsider, readerNode)
    const strangerKey = createDidKeyIdentity()
    await refusedOn({ node: readerNode, db: reader }, outsider, c.type, strangerKey, strangerKey.did, 'not-a-writer')

    // The member's key is taken back: a delegated key signs out, a did:key member is revoked.
    const delegated = member.did !== member.user
    if (!delegated && c.policy === 'fixed') return
    if (delegated) await mine.revokeDevice(member.did)
    else await db.revoke('writer', user.did)
    await waitFor(async () => sameHeads(db, mine), 'the revocation to reach both replicas', NO_DEADLINE)
    const reason = delegated ? 'device-revoked' : 'not-a-writer'
    await expect(write(mine, c.type, 'single', 100)).rejects.toMatchObject({ name: 'AccessDeniedError', reason })
    await refusedOn({ node: alice, db }, member, c.type, delegated ? (identity as DelegatedIdentity).signer : identity, user.did, reason)
  })
})
