import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDidbase, walletSession } from '@didbase/sdk'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
const runs = Number(process.argv[2] ?? 5)
const live = process.argv.includes('--live-only') ? '1' : '0'
function wallet () {
  const account = privateKeyToAccount(generatePrivateKey())
  return { did: `did:pkh:eip155:1:${account.address.toLowerCase()}`, async request ({ method, params = [] }) {
    if (method === 'eth_accounts' || method === 'eth_requestAccounts') return [account.address]
    if (method === 'eth_chainId') return '0x1'
    if (method === 'personal_sign') return account.signMessage({ message: { raw: params[0] } })
    throw new Error(method) } }
}
const out = []
for (let i = 0; i < runs; i++) {
  const w = wallet()
  const child = spawn(process.execPath, ['scripts/creator-tmp.js', w.did, process.env.POLICY ?? 'writers', live], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const updates = new Map()
  let ready
  const readyP = new Promise((resolve) => { ready = resolve })
  lines.on('line', (l) => { const [k, a, b] = l.split(' '); if (k === 'ready') ready([a, b]); else if (k === 'update') updates.set(a, Number(b)) })
  const [address, addr] = await readyP
  const bob = await createDidbase({ directory: await mkdtemp(join(tmpdir(), 'bob-')), identity: await walletSession(w, { databases: [address] }), ...(live === '1' ? { resync: { intervalMs: 0, retry: false } } : {}) })
  await bob.dial(addr)
  const mine = await bob.keyValue(address)
  await mine.whenSynced()
  const hash = await mine.put('k', 'v')
  const t0 = Date.now()
  const deadline = t0 + 30_000
  while (!updates.has(hash) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
  const ms = (updates.get(hash) ?? Infinity) - t0
  out.push(ms)
  console.log(`run ${i + 1}: ${ms} ms`)
  await bob.close()
  child.stdin.write('x\n')
  await new Promise((r) => child.on('exit', r))
}
out.sort((a, b) => a - b)
console.log(`median ${out[Math.floor(runs / 2)]} worst ${out[runs - 1]}`)
