#!/usr/bin/env node
/**
 * How long a new session's first write takes to reach a connected replica, over loopback:
 * `node bench/scripts/first-write.js [runs] [wallet|device|did-key] [writers|acl] [--write=put|batch|burst] [--live-only]`.
 * With `--live-only` no node resyncs (`resync: { intervalMs: 0, retry: false }`), so a write
 * that misses the live path shows as "not within 30 s".
 * Prints each run's delay (from the put's return to the creator's `update` event) and the
 * median and worst. A script, not a test: the figures go in notes, never in assertions.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDidbase, createDidKeyIdentity, delegateDevice, delegatedIdentity, walletSession } from '@didbase/sdk'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'

const runs = Number(process.argv[2] ?? 10)
const kind = process.argv[3] ?? 'wallet'
const policy = process.argv[4] ?? 'writers'

/** An EIP-1193 provider over a viem local account, as a page's `window.ethereum` would be. */
function wallet () {
  const account = privateKeyToAccount(generatePrivateKey())
  return {
    did: `did:pkh:eip155:1:${account.address.toLowerCase()}`,
    async request ({ method, params = [] }) {
      if (method === 'eth_accounts' || method === 'eth_requestAccounts') return [account.address]
      if (method === 'eth_chainId') return '0x1'
      if (method === 'personal_sign') return account.signMessage({ message: { raw: params[0] } })
      throw Object.assign(new Error(`unsupported ${method}`), { code: 4200 })
    }
  }
}

/** With `--live-only`, no resync: an entry that misses the live path never arrives. */
const resync = process.argv.includes('--live-only') ? { intervalMs: 0, retry: false } : undefined

async function once () {
  const dirs = [await mkdtemp(join(tmpdir(), 'first-write-')), await mkdtemp(join(tmpdir(), 'first-write-'))]
  const alice = await createDidbase({ directory: dirs[0], resync })
  let bob
  try {
    let user, identity
    if (kind === 'wallet') {
      const w = wallet()
      user = w.did
      identity = async (address) => walletSession(w, { databases: [address], expiresIn: 3_600_000 })
    } else if (kind === 'device') {
      const root = createDidKeyIdentity()
      user = root.did
      identity = async (address) => { const k = createDidKeyIdentity(); return delegatedIdentity(k, [await delegateDevice(root, k.did, { scope: [address], expiresIn: 3_600_000 })]) }
    } else {
      const key = createDidKeyIdentity()
      user = key.did
      identity = async () => key
    }
    const db = await alice.keyValue('first-write', policy === 'acl' ? { acl: true } : { writers: [alice.did, user] })
    if (policy === 'acl') await db.grant('writer', user)
    bob = await createDidbase({ directory: dirs[1], identity: await identity(db.address), resync })
    await bob.dial(alice.multiaddrs[0])
    const mine = await bob.keyValue(db.address)
    await mine.whenSynced()
    const arrived = new Map()
    let wake = () => {}
    db.addEventListener('update', (e) => { arrived.set(e.detail.hash, performance.now()); wake() })
    const write = process.argv.find((a) => a.startsWith('--write='))?.slice('--write='.length) ?? 'put'
    const hash = write === 'batch'
      ? await mine.batch((b) => { b.put('k', 'v').put('k2', 'v2') })
      : write === 'burst' ? (await Promise.all([mine.put('k', 'v'), mine.put('k2', 'v2'), mine.put('k3', 'v3')]))[2] : await mine.put('k', 'v')
    const t0 = performance.now()
    const deadline = t0 + 30_000
    while (!arrived.has(hash) && performance.now() < deadline) await new Promise((resolve) => { wake = resolve; setTimeout(resolve, 100) })
    return (arrived.get(hash) ?? Infinity) - t0
  } finally {
    await bob?.close()
    await alice.close()
    await Promise.all(dirs.map(async (d) => rm(d, { recursive: true, force: true })))
  }
}

const delays = []
for (let i = 0; i < runs; i++) {
  const ms = await once()
  delays.push(ms)
  console.log(`run ${i + 1}: ${ms === Infinity ? 'not within 30 s' : `${ms.toFixed(0)} ms`}`)
}
const sorted = [...delays].sort((a, b) => a - b)
console.log(`${kind} (${policy}): ${runs} runs, median ${sorted[Math.floor(runs / 2)].toFixed(0)} ms, worst ${sorted[runs - 1] === Infinity ? '> 30 s' : `${sorted[runs - 1].toFixed(0)} ms`}`)
