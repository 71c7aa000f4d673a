// What a proposed OrbitDB change would give, measured in one process per variant:
// `node bench/src/what-if.js [--patched]`. `--patched` stands in for the smallest upstream
// patch proposed for @orbitdb/core 4.0.0 (src/oplog/oplog-store.js `get`): keep entries it
// has decoded, by their bytes (entries are immutable), instead of decoding the same bytes
// again for every append's heads, clock and references walk. didbase never ships this.
import { Entry } from '@orbitdb/core'
import { closeHost, host, sides } from './sides.js'

if (process.argv.includes('--patched')) {
  const decode = Entry.decode
  const decoded = new WeakMap()
  Entry.decode = async (bytes, ...rest) => {
    let entry = decoded.get(bytes)
    if (entry === undefined) {
      entry = await decode(bytes, ...rest)
      decoded.set(bytes, entry)
    }
    return entry
  }
}

const N = Number(process.env.N ?? 1000)

async function timed (label, body) {
  const h = await host()
  try {
    const db = await sides.didbase.keyValue(h, label)
    for (let i = -100; i < 0; i++) await sides.didbase.put(db, i)
    const start = performance.now()
    const ops = await body(db)
    return Math.round((ops / (performance.now() - start)) * 1000)
  } finally {
    await closeHost(h)
  }
}

const awaited = await timed('awaited', async (db) => {
  for (let i = 0; i < N; i++) await sides.didbase.put(db, i)
  return N
})
const batches = await timed('batches', async (db) => {
  for (let j = 0; j < N / 10; j++) await db.batch((b) => { for (let i = 0; i < 100; i++) b.put(`b${j}-${i}`, { n: i }) })
  return N * 10
})
console.log(JSON.stringify({ patched: process.argv.includes('--patched'), awaitedPutsPerSec: awaited, batchOpsPerSec: batches }))
process.exit(0)
