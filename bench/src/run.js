// didbase against raw OrbitDB 4 in the same run, on the same Helia and storage.
// Usage: npm run bench [-- --quick]
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createDidbase } from '@didbase/sdk'
import { createOrbitDB } from '@orbitdb/core'
import { didbaseCheck, orbitdbCheck, POLICIES } from './access.js'
import { schemaRates } from './schemas.js'

const quick = process.argv.includes('--quick')
const N = quick ? 100 : 1000
const dirs = []

async function host () {
  const directory = await mkdtemp(join(tmpdir(), 'didbase-bench-'))
  dirs.push(directory)
  return { directory, didbase: await createDidbase({ directory }) }
}

/** One side of the comparison: how to open a database and write to it. */
const sides = {
  didbase: {
    open: async (h, nameOrAddress) => h.didbase.eventLog(nameOrAddress),
    openKv: async (h, name) => h.didbase.keyValue(name),
    put: (db, i) => db.put(`k${i}`, { n: i }),
    add: (db, i) => db.add({ n: i }),
    count: async (db) => db.size()
  },
  /** didbase with a mutable ACL: every replicated entry is judged against its causal past. */
  didbaseAcl: {
    open: async (h, nameOrAddress) => h.didbase.eventLog(nameOrAddress, nameOrAddress.startsWith('/orbitdb/') ? {} : { acl: true }),
    add: (db, i) => db.add({ n: i }),
    count: async (db) => db.size()
  },
  orbitdb: {
    orbit: async (h) => {
      h.orbitdb ??= await createOrbitDB({ ipfs: h.didbase.helia, directory: join(h.directory, 'raw-orbitdb') })
      return h.orbitdb
    },
    open: async (h, nameOrAddress) => (await sides.orbitdb.orbit(h)).open(nameOrAddress, { type: 'events' }),
    openKv: async (h, name) => (await sides.orbitdb.orbit(h)).open(name, { type: 'keyvalue' }),
    put: (db, i) => db.put(`k${i}`, { n: i }),
    add: (db, i) => db.add({ n: i }),
    count: async (db) => {
      let n = 0
      for await (const _ of db.log.iterator()) n++
      return n
    }
  }
}

async function localWrites (side) {
  const h = await host()
  try {
    const db = await side.openKv(h, 'writes')
    const start = performance.now()
    for (let i = 0; i < N; i++) await side.put(db, i)
    const ms = performance.now() - start
    return { opsPerSec: (N / ms) * 1000, ms }
  } finally {
    await closeHost(h)
  }
}

async function catchUp (side) {
  const a = await host()
  const b = await host()
  try {
    const src = await side.open(a, 'catch-up')
    for (let i = 0; i < N; i++) await side.add(src, i)
    await b.didbase.dial(a.didbase.multiaddrs[0])
    const start = performance.now()
    const dst = await side.open(b, src.address)
    while ((await side.count(dst)) < N) {
      if (performance.now() - start > 300_000) throw new Error('catch-up did not finish in 300 s')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const ms = performance.now() - start
    return { entriesPerSec: (N / ms) * 1000, ms }
  } finally {
    await closeHost(a)
    await closeHost(b)
  }
}

async function closeHost (h) {
  if (h.orbitdb) await h.orbitdb.stop()
  await h.didbase.close()
}

function row (name, unit, ours, theirs, higherIsBetter = true) {
  const ratio = higherIsBetter ? ours / theirs : theirs / ours
  return { name, unit, didbase: Number(ours.toFixed(1)), orbitdb: Number(theirs.toFixed(1)), ratio: Number(ratio.toFixed(2)) }
}

const results = []
const schemaResults = []
try {
  process.stderr.write('  schema validations…\n')
  for (const r of schemaRates(quick ? 20_000 : 200_000).rows) {
    schemaResults.push({ name: r.name, unit: 'validations/s', didbase: Math.round(r.ours), ajv: Math.round(r.theirs), ratio: Number((r.ours / r.theirs).toFixed(2)) })
  }
  process.stderr.write(`bench: N = ${N}${quick ? ' (quick)' : ''}\n`)
  process.stderr.write('  local key-value writes…\n')
  const wd = await localWrites(sides.didbase)
  const wo = await localWrites(sides.orbitdb)
  results.push(row(`key-value put x${N}`, 'ops/s', wd.opsPerSec, wo.opsPerSec))
  process.stderr.write('  catch-up of a fresh replica…\n')
  const cd = await catchUp(sides.didbase)
  const co = await catchUp(sides.orbitdb)
  results.push(row(`catch-up ${N} entries`, 'entries/s', cd.entriesPerSec, co.entriesPerSec))
  const ca = await catchUp(sides.didbaseAcl)
  results.push(row(`catch-up ${N} entries, ACL policy`, 'entries/s', ca.entriesPerSec, co.entriesPerSec))
  process.stderr.write('  access check per replicated entry, per policy…\n')
  const h = await host()
  try {
    const theirs = await orbitdbCheck(h, N)
    // Warm the JIT on didbase's side too, so the first policy measured is not penalised.
    for (const policy of POLICIES) await didbaseCheck(h, Math.min(N, 100), policy, 'warm-up')
    for (const policy of POLICIES) {
      const ours = await didbaseCheck(h, N, policy)
      results.push(row(`access check: ${policy.name} vs IPFSAccessController`, 'µs/entry', ours, theirs, false))
    }
  } finally {
    await closeHost(h)
  }
} finally {
  await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })))
}

console.table(results)
console.table(schemaResults)
const machine = { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, platform: process.platform }
const file = join(import.meta.dirname, '..', 'results', `${new Date().toISOString().replaceAll(':', '-')}${quick ? '-quick' : ''}.json`)
await mkdir(join(import.meta.dirname, '..', 'results'), { recursive: true })
await writeFile(file, `${JSON.stringify({ machine, n: N, results, schemas: schemaResults }, null, 2)}\n`)
console.log(`ratio: how many times better didbase is (throughput ours/theirs, time theirs/ours); written to ${file}`)
