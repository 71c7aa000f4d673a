// didbase against raw OrbitDB 4 in the same run, on the same Helia and storage.
// Usage: npm run bench [-- --quick | --large]
//   --quick  small N, for CI (no thresholds)
//   --large  also the peak RSS of a replica of 100k entries (about half an hour)
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { delegatedCheck, didbaseCheck, orbitdbCheck, POLICIES } from './access.js'
import { catchUp, liveLag, localWrites, readsAndColdOpen, replicaRss } from './measures.js'
import { schemaRates } from './schemas.js'
import { closeHost, dirs, host, sides } from './sides.js'

const quick = process.argv.includes('--quick')
const large = process.argv.includes('--large')
const N = quick ? 100 : 1000
const BIG = quick ? 300 : 10_000
const HUGE = 100_000
const LIVE = quick ? 100 : 1000

const progress = (line) => process.stderr.write(`  ${line}\n`)
const results = []
const schemaResults = []
/** Private against plain didbase in the same run: the cost per entry of sealing (target: at most 1.3x). */
const privateCost = []

/** `higherIsBetter`: throughput (ours / theirs); else a time or a cost (theirs / ours). */
function row (name, unit, ours, theirs, higherIsBetter = true) {
  const ratio = higherIsBetter ? ours / theirs : theirs / ours
  const round = (x) => Number(x.toFixed(x < 10 ? 3 : 1))
  results.push({ name, unit, didbase: round(ours), orbitdb: round(theirs), ratio: Number(ratio.toFixed(2)) })
}

try {
  progress('schema validations…')
  for (const r of schemaRates(quick ? 20_000 : 200_000).rows) {
    schemaResults.push({ name: r.name, unit: 'validations/s', didbase: Math.round(r.ours), ajv: Math.round(r.theirs), ratio: Number((r.ours / r.theirs).toFixed(2)) })
  }
  process.stderr.write(`bench: N = ${N}, large = ${BIG}${quick ? ' (quick)' : ''}\n`)

  for (const [kind, label] of [['put', 'key-value put'], ['putDoc', 'documents put'], ['add', 'events add']]) {
    progress(`local writes: ${label}…`)
    const ours = await localWrites(sides.didbase, kind, N)
    const theirs = await localWrites(sides.orbitdb, kind, N)
    row(`${label} x${N}`, 'ops/s', ours.opsPerSec, theirs.opsPerSec)
  }
  progress('local writes: key-value put, private…')
  const sealed = await localWrites(sides.didbasePrivate, 'put', N)
  const plain = await localWrites(sides.didbase, 'put', N)
  const orbitPut = await localWrites(sides.orbitdb, 'put', N)
  row(`key-value put x${N}, private`, 'ops/s', sealed.opsPerSec, orbitPut.opsPerSec)
  row(`key-value put x${N}, plain (beside the private run)`, 'ops/s', plain.opsPerSec, orbitPut.opsPerSec)
  progress('local writes: key-value put, private with an ACL…')
  const sealedAcl = await localWrites(sides.didbasePrivateAcl, 'put', N)
  const plainAcl = await localWrites(sides.didbaseAcl, 'put', N)
  row(`key-value put x${N}, private ACL`, 'ops/s', sealedAcl.opsPerSec, orbitPut.opsPerSec)
  row(`key-value put x${N}, ACL (beside the private ACL run)`, 'ops/s', plainAcl.opsPerSec, orbitPut.opsPerSec)
  privateCost.push({ what: `put x${N}, fixed writers`, private: sealed.opsPerSec, plain: plain.opsPerSec }, { what: `put x${N}, ACL`, private: sealedAcl.opsPerSec, plain: plainAcl.opsPerSec })

  const growth = {}
  for (const n of [N, BIG]) {
    progress(`catch-up of a fresh replica, ${n} entries…`)
    const ours = await catchUp(sides.didbase, n)
    const theirs = await catchUp(sides.orbitdb, n)
    row(`catch-up ${n} entries`, 'entries/s', ours.entriesPerSec, theirs.entriesPerSec)
    growth[n] = { ours, theirs }
    if (n === N) {
      const acl = await catchUp(sides.didbaseAcl, n)
      row(`catch-up ${n} entries, ACL policy`, 'entries/s', acl.entriesPerSec, theirs.entriesPerSec)
      const sealedLog = await catchUp(sides.didbasePrivate, n)
      row(`catch-up ${n} entries, private (replica not a member)`, 'entries/s', sealedLog.entriesPerSec, theirs.entriesPerSec)
      const sealedAclLog = await catchUp(sides.didbasePrivateAcl, n)
      row(`catch-up ${n} entries, private ACL (replica not a member)`, 'entries/s', sealedAclLog.entriesPerSec, theirs.entriesPerSec)
      privateCost.push({ what: `catch-up ${n}, fixed writers`, private: sealedLog.entriesPerSec, plain: ours.entriesPerSec }, { what: `catch-up ${n}, ACL`, private: sealedAclLog.entriesPerSec, plain: acl.entriesPerSec })
    }
  }
  // How the cost of one entry grows from N to BIG entries: 1.0 means it does not.
  row(`per-entry catch-up cost, ${BIG} vs ${N} entries`, 'x', growth[BIG].ours.msPerEntry / growth[N].ours.msPerEntry, growth[BIG].theirs.msPerEntry / growth[N].theirs.msPerEntry, false)

  progress(`live lag after ${LIVE} rapid writes…`)
  const lagOurs = await liveLag(sides.didbase, LIVE)
  const lagTheirs = await liveLag(sides.orbitdb, LIVE)
  row(`live lag after ${LIVE} rapid writes`, 'ms', lagOurs.lagMs, lagTheirs.lagMs, false)

  progress(`get and cold open, ${BIG}-key key-value…`)
  const readsOurs = await readsAndColdOpen(sides.didbase, BIG)
  const readsTheirs = await readsAndColdOpen(sides.orbitdb, BIG)
  row(`get on ${BIG} keys`, 'µs/get', readsOurs.getUs, readsTheirs.getUs, false)
  row(`cold open of ${BIG} keys from disk + first get`, 'ms', readsOurs.coldOpenMs, readsTheirs.coldOpenMs, false)

  progress('verification (access check + signature) per replicated entry, per policy…')
  const h = await host()
  try {
    const theirs = await orbitdbCheck(h, N)
    // Warm the JIT on didbase's side too, so the first policy measured is not penalised.
    for (const policy of POLICIES) await didbaseCheck(h, Math.min(N, 100), policy, 'warm-up')
    let ownKey
    for (const policy of POLICIES) {
      const ours = await didbaseCheck(h, N, policy)
      ownKey ??= ours
      row(`verification: ${policy.name} vs IPFSAccessController`, 'µs/entry', ours, theirs, false)
    }
    progress('verification of a wallet session\'s entries (CACAO)…')
    const delegated = await delegatedCheck(h, N)
    row('verification: wallet session, first entry (its CACAO) vs IPFSAccessController', 'µs/entry', delegated.firstUs, theirs, false)
    row('verification: wallet session, each later entry vs IPFSAccessController', 'µs/entry', delegated.laterUs, theirs, false)
    row('verification: wallet session\'s later entries vs a DID\'s own key (fixed writers)', 'µs/entry', delegated.laterUs, ownKey, false)
  } finally {
    await closeHost(h)
  }

  if (large) {
    progress(`peak RSS of a replica of ${HUGE} entries (writing them first)…`)
    const ours = await replicaRss('didbase', sides.didbase, HUGE, progress)
    const theirs = await replicaRss('orbitdb', sides.orbitdb, HUGE, progress)
    row(`peak RSS, replica of ${HUGE} entries`, 'MiB', ours.peakRssMiB, theirs.peakRssMiB, false)
    row(`catch-up ${HUGE} entries (RSS run)`, 'entries/s', (HUGE / ours.catchUpMs) * 1000, (HUGE / theirs.catchUpMs) * 1000)
  }
} finally {
  await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })))
}

console.table(results)
console.table(schemaResults)
const costs = privateCost.map((c) => ({ what: c.what, 'private/s': Math.round(c.private), 'plain/s': Math.round(c.plain), 'cost per entry, private / plain': Number((c.plain / c.private).toFixed(2)) }))
console.table(costs)
const machine = { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform }
const file = join(import.meta.dirname, '..', 'results', `${new Date().toISOString().replaceAll(':', '-')}${quick ? '-quick' : ''}${large ? '-large' : ''}.json`)
await mkdir(join(import.meta.dirname, '..', 'results'), { recursive: true })
await writeFile(file, `${JSON.stringify({ machine, n: N, large: BIG, results, schemas: schemaResults, privateCost: costs }, null, 2)}\n`)
console.log(`ratio: how many times better didbase is (throughput ours/theirs, time or cost theirs/ours); written to ${file}`)
