// Each measure runs one side and returns its figures. run.js runs both sides of each in
// the same process, one after the other, and prints the ratios.
import { fork } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { closeHost, host } from './sides.js'
import { until } from './until.js'


/** Local writes, one awaited after another: ops/s. `kind` is put (key-value), putDoc or add. */
export async function localWrites (side, kind, n) {
  const open = { put: side.keyValue, putDoc: side.documents, add: side.eventLog }[kind]
  const h = await host()
  try {
    const db = await open(h, `writes-${kind}`)
    // Warm up first, so neither side is timed while the JIT compiles its write path.
    for (let i = -100; i < 0; i++) await side[kind](db, i)
    const start = performance.now()
    for (let i = 0; i < n; i++) await side[kind](db, i)
    return { opsPerSec: (n / (performance.now() - start)) * 1000 }
  } finally {
    await closeHost(h)
  }
}

/**
 * Write `n` events to a new event log on `h`, one entry each, or `size` to an entry
 * (db.batch); resolves to the log, its first and last entry hash.
 */
async function writeLog (side, h, name, n, size) {
  const db = await side.eventLog(h, name)
  let first
  let last
  for (let i = 0; i < n; i += size) {
    last = size === 1 ? await side.add(db, i) : await db.batch((b) => { for (let k = i; k < Math.min(i + size, n); k++) b.add({ n: k }) })
    first ??= last
  }
  return { db, first, last }
}

/**
 * A fresh replica catches up with a log of `n` events, written one per entry or `size` per
 * entry (db.batch): events/s, and ms per event. Done when the replica holds the head and
 * the first entry (a join adds the whole path at once).
 */
export async function catchUp (side, n, size = 1) {
  const a = await host()
  const b = await host()
  try {
    const { db: src, first, last } = await writeLog(side, a, 'catch-up', n, size)
    await b.didbase.dial(a.didbase.multiaddrs[0])
    const start = performance.now()
    const dst = await side.eventLog(b, src.address)
    await until(async () => (await side.has(dst, last)) && (await side.has(dst, first)), `catch-up of ${n} entries`)
    const ms = performance.now() - start
    return { entriesPerSec: (n / ms) * 1000, msPerEntry: ms / n }
  } finally {
    await closeHost(a)
    await closeHost(b)
  }
}

/** A connected replica, `n` rapid writes: ms from the last write until the replica has it. */
export async function liveLag (side, n) {
  const a = await host()
  const b = await host()
  try {
    const src = await side.eventLog(a, 'live')
    await b.didbase.dial(a.didbase.multiaddrs[0])
    const dst = await side.eventLog(b, src.address)
    // Both ends are subscribed before the first write.
    const first = await side.add(src, -1)
    await until(async () => side.has(dst, first), 'the first live entry to arrive', 60_000)
    let last
    for (let i = 0; i < n; i++) last = await side.add(src, i)
    const start = performance.now()
    await until(async () => side.has(dst, last), `the last of ${n} live entries to arrive`)
    return { lagMs: performance.now() - start }
  } finally {
    await closeHost(a)
    await closeHost(b)
  }
}

/** A key-value database of `n` keys: µs per get (random keys), and cold open from disk. */
export async function readsAndColdOpen (side, n) {
  let h = await host()
  let address
  let getUs
  try {
    const db = await side.keyValue(h, 'reads')
    for (let i = 0; i < n; i++) await side.put(db, i)
    address = db.address
    // Warm up, then time random keys (few: a raw OrbitDB get walks the log, over 1 s at 10k).
    for (let i = 0; i < 5; i++) await side.get(db, `k${i}`)
    const gets = Math.min(n, 25)
    const start = performance.now()
    for (let i = 0; i < gets; i++) {
      const k = `k${Math.floor(Math.random() * n)}`
      if ((await side.get(db, k)) === undefined) throw new Error(`bench: ${k} is missing`)
    }
    getUs = ((performance.now() - start) * 1000) / gets
  } finally {
    await closeHost(h)
  }
  // Cold: a new node on the same directory; open the database and read one key.
  h = await host(h.directory)
  try {
    const start = performance.now()
    const db = await side.keyValue(h, address)
    if ((await side.get(db, `k${n - 1}`)) === undefined) throw new Error('bench: the last key is missing after reopening')
    return { getUs, coldOpenMs: performance.now() - start }
  } finally {
    await closeHost(h)
  }
}

/**
 * Peak RSS of a replica process that catches up with a log of `n` entries (--large). The
 * replica runs in its own process (rss-replica.js), so only its memory is counted.
 */
export async function replicaRss (sideName, side, n, progress) {
  const a = await host()
  try {
    const db = await side.eventLog(a, 'rss')
    let first
    let last
    for (let i = 0; i < n; i++) {
      last = await side.add(db, i)
      first ??= last
      if (i % 10_000 === 9_999) progress(`${sideName}: ${i + 1} of ${n} written`)
    }
    const child = fork(new URL('./rss-replica.js', import.meta.url), [sideName, db.address, a.didbase.multiaddrs[0], first, last])
    const result = await new Promise((resolve, reject) => {
      child.on('message', resolve)
      child.on('exit', (code) => reject(new Error(`bench: the replica process exited with ${code}`)))
    })
    child.kill()
    return result
  } finally {
    await closeHost(a)
  }
}
