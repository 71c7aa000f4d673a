// didbase against raw OrbitDB 4 in the same run, on the same Helia and storage, and
// against Peerbit (its own stack, peerbit.js) where it has a comparable figure.
// Usage: npm run bench [-- --quick | --large] [--without-peerbit]
//   --quick  small N, for CI (no thresholds)
//   --without-peerbit  leave Peerbit's cells empty (CI: building its native index takes
//            about 90 s on a fresh clone, more than the rest of the quick bench)
//   --large  also the peak RSS of replicas of 5k and 100k entries (about half an hour)
import { execFileSync } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { delegatedCheck, didbaseCheck, orbitdbCheck, POLICIES } from './access.js'
import { batchWrites, burstWrites } from './bursts.js'
import { catchUp, liveLag, localWrites, readsAndColdOpen, replicaRss } from './measures.js'
import { schemaRates } from './schemas.js'
import { closeHost, dirs, host, sides } from './sides.js'
import { ensureSqliteAddon } from '../scripts/sqlite-addon.js'

const quick = process.argv.includes('--quick')
const large = process.argv.includes('--large')
const withoutPeerbit = process.argv.includes('--without-peerbit')
const N = quick ? 100 : 1000
const MID = quick ? 150 : 5000
const BIG = quick ? 200 : 10_000
const HUGE = 100_000
const LIVE = quick ? 100 : 1000
const BURST = quick ? 100 : 1000
/** Documents per db.batch or Peerbit putMany. */
const BATCH = 100
/** Peerbit catches up with BIG entries only if MID took less than this (it is slow), and not with --quick. */
const PEERBIT_BIG_IF_UNDER_MS = 60_000

const progress = (line) => process.stderr.write(`  ${line}\n`)

/** Run what-if.js in a process of its own (its variant patches OrbitDB for the whole process). */
function whatIf (patched) {
  const out = execFileSync(process.execPath, [join(import.meta.dirname, 'what-if.js'), ...(patched ? ['--patched'] : [])], { env: { ...process.env, N: String(N) }, encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').at(-1))
}
const results = []
const schemaResults = []
/** Private against plain didbase in the same run: the cost per entry of sealing (target: at most 1.3x). */
const privateCost = []

/**
 * One figure per side, null where a side has none. The ratios say how many times better
 * didbase is: throughput (a unit per second) ours / theirs, else a time or a cost theirs / ours.
 */
function row (name, unit, ours, orbit, peerbitFigure = null) {
  const higherIsBetter = unit.endsWith('/s')
  const round = (x) => (x == null ? null : Number(x.toFixed(x < 10 ? 3 : 1)))
  const ratio = (theirs) => (ours == null || theirs == null ? null : Number((higherIsBetter ? ours / theirs : theirs / ours).toFixed(2)))
  results.push({ name, unit, didbase: round(ours), orbitdb: round(orbit), peerbit: round(peerbitFigure), ratio: ratio(orbit), 'vs peerbit': ratio(peerbitFigure) })
}

/** Peerbit's side when its native index cannot be built here: every figure empty. */
const NO_PEERBIT = {
  awaitedPuts: async () => ({ opsPerSec: null }),
  burstPuts: async () => ({ opsPerSec: null }),
  batchPuts: async () => ({ opsPerSec: null }),
  catchUp: async () => null,
  liveLag: async () => ({ lagMs: null }),
  replicaRss: async () => ({ peakRssMiB: null })
}

/** Peerbit's side, its native index (better-sqlite3) built the first time a bench needs it. */
async function loadPeerbit () {
  if (withoutPeerbit) {
    process.stderr.write('bench: Peerbit\'s cells are left empty (--without-peerbit)\n')
    return NO_PEERBIT
  }
  progress('Peerbit: its native index (better-sqlite3), built the first time…')
  const why = ensureSqliteAddon()
  if (why === undefined) return import('./peerbit.js')
  process.stderr.write(`bench: Peerbit's cells are left empty: ${why}\n`)
  return NO_PEERBIT
}

try {
  const peerbit = await loadPeerbit()
  progress('schema validations…')
  for (const r of schemaRates(quick ? 20_000 : 200_000).rows) {
    schemaResults.push({ name: r.name, unit: 'validations/s', didbase: Math.round(r.ours), ajv: Math.round(r.theirs), ratio: Number((r.ours / r.theirs).toFixed(2)) })
  }
  process.stderr.write(`bench: N = ${N}, mid = ${MID}, large = ${BIG}${quick ? ' (quick)' : ''}\n`)

  // Peerbit has documents only: its awaited put stands beside both key-value and documents puts.
  progress('local writes: Peerbit documents put…')
  const peerbitPut = await peerbit.awaitedPuts(N)
  for (const [kind, label] of [['put', 'key-value put'], ['putDoc', 'documents put'], ['add', 'events add']]) {
    progress(`local writes: ${label}…`)
    const ours = await localWrites(sides.didbase, kind, N)
    const theirs = await localWrites(sides.orbitdb, kind, N)
    row(`${label} x${N}`, 'ops/s', ours.opsPerSec, theirs.opsPerSec, kind === 'add' ? null : peerbitPut.opsPerSec)
  }
  progress(`local writes: a burst of ${BURST} concurrent puts, batches of ${BATCH}…`)
  const burstOurs = await burstWrites(sides.didbase, BURST)
  const burstTheirs = await burstWrites(sides.orbitdb, BURST)
  const burstPeerbit = await peerbit.burstPuts(BURST)
  row(`burst of ${BURST} concurrent puts (Promise.all)`, 'ops/s', burstOurs.opsPerSec, burstTheirs.opsPerSec, burstPeerbit.opsPerSec)
  // OrbitDB has no batch; didbase's figure is null where the SDK has no db.batch.
  const batchOurs = await batchWrites(sides.didbase, N, BATCH)
  const batchPeerbit = await peerbit.batchPuts(N, BATCH)
  row(`put x${N} in batches of ${BATCH} (db.batch; Peerbit putMany)`, 'ops/s', batchOurs?.opsPerSec, null, batchPeerbit.opsPerSec)
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
  for (const n of [N, MID, BIG]) {
    progress(`catch-up of a fresh replica, ${n} entries…`)
    const ours = await catchUp(sides.didbase, n)
    const theirs = await catchUp(sides.orbitdb, n)
    const slow = n === BIG && (quick || growth[MID].peerbit == null || growth[MID].peerbit.msPerEntry * MID > PEERBIT_BIG_IF_UNDER_MS)
    if (slow) progress(`Peerbit skipped at ${n}${quick ? ' (quick)' : `: it took over ${PEERBIT_BIG_IF_UNDER_MS / 1000} s at ${MID}`}`)
    const theirsPeerbit = slow ? null : await peerbit.catchUp(n)
    row(`catch-up ${n} entries`, 'entries/s', ours.entriesPerSec, theirs.entriesPerSec, theirsPeerbit?.entriesPerSec)
    growth[n] = { ours, theirs, peerbit: theirsPeerbit }
    if (n === N) {
      const acl = await catchUp(sides.didbaseAcl, n)
      row(`catch-up ${n} entries, ACL policy`, 'entries/s', acl.entriesPerSec, theirs.entriesPerSec)
      const sealedLog = await catchUp(sides.didbasePrivate, n)
      row(`catch-up ${n} entries, private (replica not a member)`, 'entries/s', sealedLog.entriesPerSec, theirs.entriesPerSec)
      const sealedAclLog = await catchUp(sides.didbasePrivateAcl, n)
      row(`catch-up ${n} entries, private ACL (replica not a member)`, 'entries/s', sealedAclLog.entriesPerSec, theirs.entriesPerSec)
      privateCost.push({ what: `catch-up ${n}, fixed writers`, private: sealedLog.entriesPerSec, plain: ours.entriesPerSec }, { what: `catch-up ${n}, ACL`, private: sealedAclLog.entriesPerSec, plain: acl.entriesPerSec })
      // Given twice as long as Peerbit took for single puts; null if it never gets them.
      const limitMs = Math.max(5000, 2 * n * (theirsPeerbit?.msPerEntry ?? 0))
      const batched = theirsPeerbit == null ? null : await peerbit.catchUp(n, BATCH, limitMs)
      if (theirsPeerbit != null && !batched) progress(`Peerbit: a fresh replica had not caught up with ${n} documents written by putMany in ${Math.round(limitMs / 1000)} s`)
      const ourBatched = await catchUp(sides.didbase, n * 10, BATCH)
      row(`catch-up ${n * 10} operations written in batches of ${BATCH} (db.batch; Peerbit: ${n} putMany documents)`, 'ops/s', ourBatched.entriesPerSec, null, batched?.entriesPerSec)
    }
  }
  // How the cost of one entry grows from N to MID and BIG entries: 1.0 means it does not.
  const costGrowth = (n, side) => growth[n][side] && growth[n][side].msPerEntry / growth[N][side].msPerEntry
  for (const n of [MID, BIG]) row(`per-entry catch-up cost, ${n} vs ${N} entries`, 'x', costGrowth(n, 'ours'), costGrowth(n, 'theirs'), costGrowth(n, 'peerbit'))

  progress(`live lag after ${LIVE} rapid writes…`)
  const lagOurs = await liveLag(sides.didbase, LIVE)
  const lagTheirs = await liveLag(sides.orbitdb, LIVE)
  const lagPeerbit = await peerbit.liveLag(LIVE)
  row(`live lag after ${LIVE} rapid writes`, 'ms', lagOurs.lagMs, lagTheirs.lagMs, lagPeerbit.lagMs)

  progress(`get and cold open, ${BIG}-key key-value…`)
  const readsOurs = await readsAndColdOpen(sides.didbase, BIG)
  const readsTheirs = await readsAndColdOpen(sides.orbitdb, BIG)
  row(`get on ${BIG} keys`, 'µs/get', readsOurs.getUs, readsTheirs.getUs)
  row(`cold open of ${BIG} keys from disk + first get`, 'ms', readsOurs.coldOpenMs, readsTheirs.coldOpenMs)

  progress('what a proposed OrbitDB change would give (what-if.js, a process per variant)…')
  const asIs = whatIf(false)
  const patched = whatIf(true)
  // Both columns are didbase: on OrbitDB with the proposed patch (didbase column) and as it is (orbitdb column).
  row('what-if: awaited put, OrbitDB patched vs as is (both didbase)', 'ops/s', patched.awaitedPutsPerSec, asIs.awaitedPutsPerSec)
  row(`what-if: put in batches of ${BATCH}, OrbitDB patched vs as is (both didbase)`, 'ops/s', patched.batchOpsPerSec, asIs.batchOpsPerSec)

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
      row(`verification: ${policy.name} vs IPFSAccessController`, 'µs/entry', ours, theirs)
    }
    progress('verification of a wallet session\'s entries (CACAO)…')
    const delegated = await delegatedCheck(h, N)
    row('verification: wallet session, first entry (its CACAO) vs IPFSAccessController', 'µs/entry', delegated.firstUs, theirs)
    row('verification: wallet session, each later entry vs IPFSAccessController', 'µs/entry', delegated.laterUs, theirs)
    row('verification: wallet session\'s later entries vs a DID\'s own key (fixed writers)', 'µs/entry', delegated.laterUs, ownKey)
  } finally {
    await closeHost(h)
  }

  if (large) {
    // Peerbit at MID, not HUGE: it catches up with 5k in about two minutes.
    progress(`peak RSS of a replica of ${MID} entries (writing them first)…`)
    const midOurs = await replicaRss('didbase', sides.didbase, MID, progress)
    const midTheirs = await replicaRss('orbitdb', sides.orbitdb, MID, progress)
    const midPeerbit = await peerbit.replicaRss(MID)
    row(`peak RSS, replica of ${MID} entries`, 'MiB', midOurs.peakRssMiB, midTheirs.peakRssMiB, midPeerbit.peakRssMiB)
    progress(`peak RSS of a replica of ${HUGE} entries (writing them first)…`)
    const ours = await replicaRss('didbase', sides.didbase, HUGE, progress)
    const theirs = await replicaRss('orbitdb', sides.orbitdb, HUGE, progress)
    row(`peak RSS, replica of ${HUGE} entries`, 'MiB', ours.peakRssMiB, theirs.peakRssMiB)
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
await writeFile(file, `${JSON.stringify({ machine, n: N, mid: MID, large: BIG, results, schemas: schemaResults, privateCost: costs }, null, 2)}\n`)
console.log(`ratio (vs raw OrbitDB) and vs peerbit: how many times better didbase is (throughput ours/theirs, time or cost theirs/ours); written to ${file}`)
