// didbase against raw OrbitDB 4 in the same run, on the same Helia and storage, and
// against Peerbit (its own stack, peerbit.js) where it has a comparable figure.
// Usage: npm run bench [-- --quick | --large] [--without-peerbit] [--only-queries]
//   --quick  small N, for CI (no thresholds)
//   --without-peerbit  leave Peerbit's cells empty (CI: building its native index takes
//            about 90 s on a fresh clone, more than the rest of the quick bench)
//   --large  also the peak RSS of replicas of 5k and 100k entries, and the query rows over
//            100k documents instead of 10k (about 50 minutes)
//   --only-queries  only the query rows (queries, puts with indexes, live query, index build)
import { execFileSync } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { delegatedCheck, didbaseCheck, orbitdbCheck, POLICIES } from './access.js'
import { batchWrites, burstWrites } from './bursts.js'
import { catchUp, liveLag, localWrites, readsAndColdOpen, replicaRss } from './measures.js'
import { didbaseIndexedPuts, didbaseLiveQuery, didbaseQueries, didbaseRangeOnePerEntry, orbitdbLiveQuery, orbitdbPuts, orbitdbQueries, PUT_INDEXES, QUERY_INDEXES } from './queries.js'
import { PAGE, PER_AUTHOR } from './query-shapes.js'
import { schemaRates } from './schemas.js'
import { closeHost, dirs, host, sides } from './sides.js'
import { ensureSqliteAddon } from '../scripts/sqlite-addon.js'

const quick = process.argv.includes('--quick')
const large = process.argv.includes('--large')
const withoutPeerbit = process.argv.includes('--without-peerbit')
const onlyQueries = process.argv.includes('--only-queries')
const N = quick ? 100 : 1000
const MID = quick ? 150 : 5000
const BIG = quick ? 200 : 10_000
const HUGE = 100_000
const LIVE = quick ? 100 : 1000
const BURST = quick ? 100 : 1000
/** Documents per db.batch or Peerbit putMany. */
const BATCH = 100
/** Documents the query rows run on. */
const DOCS = quick ? 1000 : large ? HUGE : 10_000
/** Puts in db.batch calls for the rows of puts with indexes (awaited puts: N). */
const INDEXED_BATCHES = quick ? 1000 : 10_000
/** Remote writes the live query is timed on. */
const LIVE_QUERY = quick ? 20 : 50
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
/** The targets the query rows' issue sets, and whether this run met them. */
const targets = []

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
  replicaRss: async () => ({ peakRssMiB: null }),
  queries: async () => ({}),
  queryPuts: async () => ({ opsPerSec: null }),
  liveQuery: async () => ({ medianMs: null, p95Ms: null })
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

/**
 * A target the query rows' issue sets: `value` against it, and whether it is met. One set at
 * 100k documents (`at100k`) is met or not only under --large; otherwise it says how it
 * stands at DOCS.
 */
function target (name, value, met, note, at100k = false) {
  const verdict = value == null || Number.isNaN(value) ? 'not measured' : met ? 'yes' : 'NO'
  const partial = at100k && DOCS !== HUGE && verdict !== 'not measured'
  targets.push({ target: name, value: value == null ? null : Number(value.toFixed(value < 10 ? 3 : 1)), met: partial ? `${verdict} at ${DOCS} (100k: --large)` : verdict, note })
}

/**
 * The query rows, on DOCS documents `{ _id, author, n }` alike on every side (query-shapes.js):
 * an equality lookup, a range with sort and limit, a count, each with and without an index;
 * the build of the indexes; puts with 0, 1 and 3 indexes; a live query's emit delay.
 */
async function queryRows (peerbit) {
  progress(`queries over ${DOCS} documents: didbase (written in batches of ${BATCH}; scans, index build, then through indexes)…`)
  const ours = await didbaseQueries(DOCS, BATCH, progress)
  progress(`queries over ${DOCS} documents: didbase, the range again over documents put one by one…`)
  const onePerEntry = await didbaseRangeOnePerEntry(DOCS, progress)
  progress(`queries over ${DOCS} documents: raw OrbitDB (written one by one: it has no batch)…`)
  const theirs = await orbitdbQueries(DOCS, progress)
  progress(`queries over ${DOCS} documents: Peerbit (written by putMany of ${BATCH})…`)
  const theirsPeerbit = await peerbit.queries(DOCS, BATCH, progress)
  const shapes = {
    equality: `equality on author (${PER_AUTHOR} of ${DOCS} documents)`,
    range: `range on n, sort, limit ${PAGE} (${DOCS / 10} of ${DOCS} in range)`,
    count: `count of a range (${DOCS / 10} of ${DOCS})`
  }
  for (const [shape, label] of Object.entries(shapes)) {
    row(`query: ${label}, with index`, 'ms', ours.indexed[shape], theirs[shape], theirsPeerbit[shape])
    row(`query: ${label}, without index`, 'ms', ours.scan[shape], theirs[shape], theirsPeerbit[shape])
  }
  row(`query: ${shapes.range}, with index, documents put one by one (an entry each)`, 'ms', onePerEntry, theirs.range, theirsPeerbit.range)
  row(`index build: ${QUERY_INDEXES.length} indexes for ${DOCS} existing documents (open + first query)`, 'ms', ours.buildMs, null)

  progress(`puts with 0, 1 and 3 indexes: ${N} awaited, ${INDEXED_BATCHES} in batches of ${BATCH}…`)
  const orbitPuts = await orbitdbPuts(N)
  const peerbitPuts = await peerbit.queryPuts(N)
  // Each the better of two runs, interleaved (0, 1, 3, 0, 1, 3): the ratios compare like with like.
  const awaited = {}
  const batched = {}
  const better = (a, b) => (a === undefined || b.opsPerSec > a.opsPerSec ? b : a)
  for (let run = 0; run < 2; run++) {
    for (const k of [0, 1, 3]) awaited[k] = better(awaited[k], await didbaseIndexedPuts(PUT_INDEXES[k], N))
    for (const k of [0, 1, 3]) batched[k] = better(batched[k], await didbaseIndexedPuts(PUT_INDEXES[k], INDEXED_BATCHES, BATCH))
  }
  const indexes = (k) => `${k} ${k === 1 ? 'index' : 'indexes'}`
  for (const k of [0, 1, 3]) row(`documents put x${N}, ${indexes(k)}`, 'ops/s', awaited[k].opsPerSec, orbitPuts.opsPerSec, peerbitPuts.opsPerSec)
  row('indexes: awaited put, 3 indexes vs none (both didbase)', 'ops/s', awaited[3].opsPerSec, awaited[0].opsPerSec)
  // Peerbit's figure is its putMany rate while filling the query documents (its index holds every field).
  for (const k of [0, 1, 3]) row(`put x${INDEXED_BATCHES} in batches of ${BATCH} (db.batch), ${indexes(k)} (Peerbit: putMany of the query documents)`, 'ops/s', batched[k].opsPerSec, null, theirsPeerbit.fillPerSec)
  row(`indexes: put in batches of ${BATCH}, 3 indexes vs none (both didbase)`, 'ops/s', batched[3].opsPerSec, batched[0].opsPerSec)

  progress(`live query: ${LIVE_QUERY} remote writes, two nodes over loopback…`)
  const liveOurs = await didbaseLiveQuery(LIVE_QUERY)
  const liveTheirs = await orbitdbLiveQuery(LIVE_QUERY)
  const livePeerbit = await peerbit.liveQuery(LIVE_QUERY)
  row(`live query: emit after a remote entry's update event, median of ${LIVE_QUERY}`, 'ms', liveOurs.medianMs, liveTheirs.medianMs, livePeerbit.medianMs)
  row(`live query: emit after a remote entry's update event, p95 of ${LIVE_QUERY}`, 'ms', liveOurs.p95Ms, liveTheirs.p95Ms, livePeerbit.p95Ms)

  const range = ours.indexed.range
  const vsOrbit = theirs.range / range
  const vsPeerbit = theirsPeerbit.range == null ? null : theirsPeerbit.range / range
  target(`indexed range + sort + limit ${PAGE} at 100k documents: under 5 ms (ms)`, range, range < 5, `written in batches of ${BATCH}`, true)
  target(`indexed range + sort + limit ${PAGE} at 100k documents: under 5 ms (ms)`, onePerEntry, onePerEntry < 5, 'put one by one', true)
  target(`indexed range + sort + limit ${PAGE} at 100k: at least 100x OrbitDB query(fn) (x)`, vsOrbit, vsOrbit >= 100, `written in batches of ${BATCH}`, true)
  target(`indexed range + sort + limit ${PAGE} at 100k: faster than Peerbit's indexed search (x)`, vsPeerbit, vsPeerbit > 1, `written in batches of ${BATCH}`, true)
  target('awaited puts with 3 indexes: at least 0.7x without (x)', awaited[3].opsPerSec / awaited[0].opsPerSec, awaited[3].opsPerSec / awaited[0].opsPerSec >= 0.7, `${N} puts`)
  target(`puts in batches of ${BATCH} with 3 indexes: at least 0.7x without (x)`, batched[3].opsPerSec / batched[0].opsPerSec, batched[3].opsPerSec / batched[0].opsPerSec >= 0.7, `${INDEXED_BATCHES} puts`)
  target('live query: emits within 50 ms of the entry\'s update event (p95, ms)', liveOurs.p95Ms, liveOurs.p95Ms <= 50, `median ${liveOurs.medianMs.toFixed(1)} ms over ${LIVE_QUERY} writes`)
}

/** Every row but the query rows (`--only-queries` leaves them out). */
async function otherRows (peerbit) {
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
}

try {
  const peerbit = await loadPeerbit()
  if (!onlyQueries) await otherRows(peerbit)
  await queryRows(peerbit)
} finally {
  await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })))
}

console.table(results)
if (schemaResults.length > 0) console.table(schemaResults)
const costs = privateCost.map((c) => ({ what: c.what, 'private/s': Math.round(c.private), 'plain/s': Math.round(c.plain), 'cost per entry, private / plain': Number((c.plain / c.private).toFixed(2)) }))
if (costs.length > 0) console.table(costs)
console.table(targets)
const machine = { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform }
const file = join(import.meta.dirname, '..', 'results', `${new Date().toISOString().replaceAll(':', '-')}${quick ? '-quick' : ''}${large ? '-large' : ''}${onlyQueries ? '-queries' : ''}.json`)
await mkdir(join(import.meta.dirname, '..', 'results'), { recursive: true })
await writeFile(file, `${JSON.stringify({ machine, n: N, mid: MID, large: BIG, documents: DOCS, results, schemas: schemaResults, privateCost: costs, targets }, null, 2)}\n`)
console.log(`ratio (vs raw OrbitDB) and vs peerbit: how many times better didbase is (throughput ours/theirs, time or cost theirs/ours); written to ${file}`)
