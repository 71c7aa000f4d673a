// The cost of the access check on a replica, per replicated entry, for each didbase policy
// and for OrbitDB's IPFSAccessController, on entries written through each stack's own
// write path. A fresh controller is built from the database's access address, as a new
// replica does, and judges the entries oldest first; the signature check OrbitDB runs after
// the access check is included, since didbase's check verifies the signature itself.
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createDidKeyIdentity, didAcl, didWriters, orbitIdentityLayer, walletSession } from '@didbase/access'
import { forgetCheckedSignatures } from '@didbase/access/internal'
import { createDidbase } from '@didbase/sdk'
import { createOrbitDB, Entry, IPFSAccessController } from '@orbitdb/core'

export const POLICIES = [
  { name: 'fixed writers', options: {} },
  { name: 'fixed writers + ownership', options: { ownership: true } },
  { name: 'ACL', options: { acl: true } },
  { name: 'ACL + ownership', options: { acl: true, ownership: true } }
]

const HOT_KEYS = 100

async function oldestFirst (log) {
  const entries = []
  for await (const entry of log.iterator()) entries.push(entry)
  return entries.reverse()
}

async function timePerEntry (entries, check) {
  const start = performance.now()
  for (const entry of entries) await check(entry)
  return ((performance.now() - start) * 1000) / entries.length
}

/** µs per entry for a didbase policy; `h` is a bench host with a didbase node. */
export async function didbaseCheck (h, n, policy, label = 'measured') {
  const db = await h.didbase.keyValue(`access-${policy.name}-${label}`, policy.options)
  for (let i = 0; i < n; i++) await db.put(`k${i % HOT_KEYS}`, { n: i })
  // `db` is the OrbitDB database behind the handle (protected in TypeScript).
  const entries = await oldestFirst(db.db.log)
  const factory = policy.options.acl ? didAcl() : didWriters()
  const replica = await factory({ orbitdb: { ipfs: h.didbase.helia, identity: { id: 'bench-replica' } }, address: db.db.access.address })
  replica.bind(db.address)
  const { identities } = orbitIdentityLayer(createDidKeyIdentity())
  forgetCheckedSignatures()
  const us = await timePerEntry(entries, async (entry) => {
    if (!(await replica.canAppend(entry))) throw new Error('didbase refused its own entry')
    if (!(await Entry.verify(identities, entry))) throw new Error('didbase entry did not verify')
  })
  await db.close()
  return us
}

/** µs per entry for OrbitDB's IPFSAccessController, with a fresh OrbitDB as the replica. */
export async function orbitdbCheck (h, n) {
  const writer = await createOrbitDB({ ipfs: h.didbase.helia, directory: join(h.directory, 'raw-writer') })
  const reader = await createOrbitDB({ ipfs: h.didbase.helia, directory: join(h.directory, 'raw-reader') })
  try {
    const db = await writer.open('access-raw', { type: 'keyvalue', AccessController: IPFSAccessController({ write: [writer.identity.id] }) })
    for (let i = 0; i < n; i++) await db.put(`k${i % HOT_KEYS}`, { n: i })
    const entries = await oldestFirst(db.log)
    const replica = await IPFSAccessController()({ orbitdb: reader, identities: reader.identities, address: db.access.address })
    const us = await timePerEntry(entries, async (entry) => {
      if (!(await replica.canAppend(entry))) throw new Error('OrbitDB refused its own entry')
      if (!(await Entry.verify(reader.identities, entry))) throw new Error('OrbitDB entry did not verify')
    })
    await db.close()
    return us
  } finally {
    await writer.stop()
    await reader.stop()
  }
}

/** An EIP-1193 provider over a viem local account: the signer a browser wallet uses. */
async function benchWallet () {
  const { generatePrivateKey, privateKeyToAccount } = await import('viem/accounts')
  const account = privateKeyToAccount(generatePrivateKey())
  return {
    did: `did:pkh:eip155:1:${account.address.toLowerCase()}`,
    request: async ({ method, params = [] }) => {
      if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [account.address]
      if (method === 'eth_chainId') return '0x1'
      if (method === 'personal_sign') return account.signMessage({ message: { raw: params[0] } })
      throw new Error(`unsupported ${method}`)
    }
  }
}

/**
 * Entries from a wallet session (a CACAO delegating to a session key), judged by a fresh
 * replica: µs for the first entry (the session, whose CACAO is verified: secp256k1 recovery)
 * and per entry for the rest, next to the same database written by a DID's own key.
 */
export async function delegatedCheck (h, n) {
  const wallet = await benchWallet()
  const session = await createDidbase({ directory: join(h.directory, 'wallet-session'), identity: await walletSession(wallet), listen: [] })
  try {
    const mine = await session.keyValue(`access-delegated-${n}`, { writers: [wallet.did] })
    for (let i = 0; i < n; i++) await mine.put(`k${i % HOT_KEYS}`, { n: i })
    const entries = await oldestFirst(mine.db.log)
    const replica = await didWriters()({ orbitdb: { ipfs: session.helia, identity: { id: 'bench-replica' } }, address: mine.db.access.address })
    replica.bind(mine.address)
    const { identities } = orbitIdentityLayer(createDidKeyIdentity())
    forgetCheckedSignatures()
    const check = async (entry) => {
      if (!(await replica.canAppend(entry))) throw new Error('didbase refused its own delegated entry')
      if (!(await Entry.verify(identities, entry))) throw new Error('didbase delegated entry did not verify')
    }
    const firstUs = await timePerEntry(entries.slice(0, 1), check)
    const laterUs = await timePerEntry(entries.slice(1), check)
    return { firstUs, laterUs }
  } finally {
    await session.close()
  }
}
