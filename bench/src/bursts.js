// Writes that are not one awaited after another, on a key-value database of a side from
// sides.js: a burst of puts issued at once, and db.batch (didbase only: OrbitDB has none).
import { performance } from 'node:perf_hooks'
import { closeHost, host } from './sides.js'

/** Open a key-value database on a new node and run `body(db)`. */
async function withKeyValue (side, name, body) {
  const h = await host()
  try {
    return await body(await side.keyValue(h, name))
  } finally {
    await closeHost(h)
  }
}

/** `n` puts issued at once and awaited together (Promise.all), after 100 awaited ones: ops/s. */
export const burstWrites = (side, n) => withKeyValue(side, 'burst', async (db) => {
  for (let i = -100; i < 0; i++) await side.put(db, i)
  const start = performance.now()
  await Promise.all(Array.from({ length: n }, (_, i) => side.put(db, i)))
  const opsPerSec = (n / (performance.now() - start)) * 1000
  if ((await side.get(db, `k${n - 1}`)) === undefined) throw new Error('bench: the last put of a burst is missing')
  return { opsPerSec }
})

/** One db.batch of keys `from`..`to` - 1: one log entry. */
const batch = (db, from, to) => db.batch((b) => {
  for (let i = from; i < to; i++) b.put(`k${i}`, { n: i })
})

/** `n` puts in db.batch calls of `size`, after one batch of warm-up: ops/s; null without db.batch. */
export const batchWrites = (side, n, size) => withKeyValue(side, 'batch', async (db) => {
  if (typeof db.batch !== 'function') return null
  await batch(db, -size, 0)
  const start = performance.now()
  for (let i = 0; i < n; i += size) await batch(db, i, Math.min(i + size, n))
  return { opsPerSec: (n / (performance.now() - start)) * 1000 }
})

