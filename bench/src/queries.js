// The query rows' measures for didbase and raw OrbitDB, on the same documents
// (query-shapes.js): didbase's find, count and watch with and without indexes, against
// OrbitDB's query(fn) with the sort and limit done in JS (it has neither); puts with indexes;
// the build of indexes for an existing database. Peerbit's side is in peerbit.js. Each
// measure runs one side and returns its figures, as measures.js does.
import { performance } from 'node:perf_hooks'
import { defineSchema, s } from '@didbase/sdk'
import { checkAnswer, LIVE_WARM_UP, liveDelays, PAGE, params, queryDoc, timeCalls } from './query-shapes.js'
import { closeHost, host, sides } from './sides.js'
import { until } from './until.js'

const QueryDoc = defineSchema('QueryDoc', s.struct({ _id: s.string(), author: s.string(), n: s.int() }))

/** The indexes the query rows read: one per shape's field. */
export const QUERY_INDEXES = ['value.author', 'value.n']
/** The indexes of the put rows, by how many. */
export const PUT_INDEXES = { 0: [], 1: ['value.author'], 3: ['value.author', 'value.n', ['value.author', 'time']] }

const openDocs = (h, nameOrAddress, indexes = []) => h.didbase.documents(nameOrAddress, {
  ...(nameOrAddress.startsWith('/orbitdb/') ? {} : { schema: QueryDoc }),
  ...(indexes.length > 0 ? { indexes } : {})
})

/** Documents `from`..`to` - 1 of `n` in one db.batch: one entry. */
const batch = (db, from, to, n) => db.batch((b) => {
  for (let i = from; i < to; i++) b.put(queryDoc(i, n))
})

/** The three shapes in didbase's terms, and the index each must read when there is one. */
function didbaseShapes (n) {
  const p = params(n)
  const range = (i) => {
    const { lo, hi } = p.window(i)
    return { 'value.n': { gte: lo, lt: hi } }
  }
  const values = (page) => page.records.map((r) => r.value)
  return [
    { shape: 'equality', index: ['value.author'], query: (i) => ({ where: { 'value.author': p.author(i) } }), run: async (db, q) => values(await db.find(q)) },
    // Read in the index's order: the 21st row says a next page follows, and reading stops.
    { shape: 'range', index: ['value.n'], order: true, query: (i) => ({ where: range(i), sort: [['value.n', 'desc']], limit: PAGE }), run: async (db, q) => values(await db.find(q)) },
    { shape: 'count', index: ['value.n'], query: (i) => ({ where: range(i) }), run: async (db, q) => db.count(q.where) }
  ]
}

/**
 * Throw unless `explain` says the query reads `expected.index`, every condition answered by
 * its range (and in the query's order where `expected.order`), or scans when it must.
 */
function assertPlan (db, query, expected, indexed) {
  const plan = db.explain(query)
  const conditions = Object.values(query.where).reduce((sum, c) => sum + (typeof c === 'object' ? Object.keys(c).length : 1), 0)
  const ok = indexed
    ? plan.strategy !== 'scan' && JSON.stringify(plan.index) === JSON.stringify(expected.index) && plan.ranged.length === conditions && (!expected.order || plan.strategy === 'index-order')
    : plan.strategy === 'scan'
  if (!ok) {
    const wanted = indexed ? `the index on ${expected.index.join(', ')}${expected.order ? ' in order' : ''}, answering all ${conditions} conditions` : 'a scan'
    throw new Error(`bench: the ${expected.shape} query ${JSON.stringify(query)} ${indexed ? 'with' : 'without'} indexes should read ${wanted}; explain says ${JSON.stringify(plan)}`)
  }
}

/** ms per query of each shape (of those named in `only`), checking every answer and that each reads an index, or not. */
async function timeShapes (db, n, indexed, only) {
  const figures = {}
  for (const shape of didbaseShapes(n).filter((d) => only === undefined || only.includes(d.shape))) {
    assertPlan(db, shape.query(0), shape, indexed)
    figures[shape.shape] = await timeCalls(async (i) => checkAnswer(shape.shape, await shape.run(db, shape.query(i)), i, n))
  }
  return figures
}

/**
 * didbase: `n` documents written in db.batch calls of `size` to a database without
 * indexes, each shape timed (scans); the database closed and opened again with indexes
 * on author and n, which builds them (timed from the open until the first query, which
 * waits for the build, returns); each shape timed again, through the indexes.
 */
export async function didbaseQueries (n, size, progress) {
  const h = await host()
  try {
    let db = await openDocs(h, 'queries')
    for (let i = 0; i < n; i += size) {
      await batch(db, i, Math.min(i + size, n), n)
      if (i % 10_000 === 10_000 - size) progress(`didbase: ${i + size} of ${n} documents written`)
    }
    const scan = await timeShapes(db, n, false)
    const address = db.address
    await db.close()
    const reported = []
    const start = performance.now()
    db = await openDocs(h, address, QUERY_INDEXES)
    db.addEventListener('index:progress', (e) => { reported.push(e.detail) })
    await db.find({ where: { 'value.author': params(n).author(0) }, limit: 1 })
    const buildMs = performance.now() - start
    // The first index built writes a row for every document (the second finds them written).
    const done = reported.filter((d) => d.done === d.total)
    if (!done.some((d) => d.total === n)) throw new Error(`bench: building indexes over ${n} documents reported ${JSON.stringify(reported.slice(-4))}`)
    const indexed = await timeShapes(db, n, true)
    return { scan, indexed, buildMs }
  } finally {
    await closeHost(h)
  }
}

/**
 * didbase: the range shape through the index on n over `n` documents put one by one (an
 * entry each, as OrbitDB's), into a database keeping the indexes from the start. A record
 * read decodes the entry that holds it: one decoded entry of a batch serves many records,
 * here each record costs one.
 */
export async function didbaseRangeOnePerEntry (n, progress) {
  const h = await host()
  try {
    const db = await openDocs(h, 'queries-one-per-entry', QUERY_INDEXES)
    for (let i = 0; i < n; i++) {
      await db.put(queryDoc(i, n))
      if (i % 10_000 === 9_999) progress(`didbase: ${i + 1} of ${n} documents put one by one`)
    }
    return (await timeShapes(db, n, true, ['range'])).range
  } finally {
    await closeHost(h)
  }
}

/** Raw OrbitDB: `n` documents put one by one (it has no batch), each shape by query(fn). */
export async function orbitdbQueries (n, progress) {
  const h = await host()
  try {
    const db = await sides.orbitdb.documents(h, 'queries')
    for (let i = 0; i < n; i++) {
      await db.put(queryDoc(i, n))
      if (i % 10_000 === 9_999) progress(`orbitdb: ${i + 1} of ${n} documents written`)
    }
    const p = params(n)
    const inWindow = (i) => {
      const { lo, hi } = p.window(i)
      return (d) => d.n >= lo && d.n < hi
    }
    const runs = {
      equality: async (i) => {
        const author = p.author(i)
        return db.query((d) => d.author === author)
      },
      // No sort or limit in OrbitDB: every match, then sorted and cut in JS.
      range: async (i) => (await db.query(inWindow(i))).sort((a, b) => b.n - a.n).slice(0, PAGE),
      count: async (i) => (await db.query(inWindow(i))).length
    }
    const figures = {}
    for (const [shape, run] of Object.entries(runs)) figures[shape] = await timeCalls(async (i) => checkAnswer(shape, await run(i), i, n))
    return figures
  } finally {
    await closeHost(h)
  }
}

/**
 * didbase: `n` documents into a new database keeping `indexes`, by awaited puts (`size` 1)
 * or db.batch calls of `size`, after as many of warm-up; done when the indexes hold the
 * last (a query through one waits for them): ops/s.
 */
export async function didbaseIndexedPuts (indexes, n, size = 1) {
  const h = await host()
  try {
    const db = await openDocs(h, `puts-${indexes.length}`, indexes)
    const write = (from) => (size === 1 ? db.put(queryDoc(from, n)) : batch(db, from, Math.min(from + size, n), n))
    const lookup = { where: { 'value.author': params(n).author(0) }, limit: 1 }
    if (indexes.length > 0) assertPlan(db, lookup, { shape: 'lookup after puts', index: ['value.author'] }, true)
    // Warm-up: other documents (keys from n on), their rows written before the clock starts.
    for (let i = n; i < n + Math.max(size, 100); i += size) await (size === 1 ? db.put(queryDoc(i, 2 * n)) : batch(db, i, i + size, 2 * n))
    if (indexes.length > 0) await db.find(lookup)
    const start = performance.now()
    for (let i = 0; i < n; i += size) await write(i)
    if (indexes.length > 0) await db.find(lookup)
    return { opsPerSec: (n / (performance.now() - start)) * 1000 }
  } finally {
    await closeHost(h)
  }
}

/** Raw OrbitDB: the same documents, awaited puts after 100 of warm-up: ops/s. */
export async function orbitdbPuts (n) {
  const h = await host()
  try {
    const db = await sides.orbitdb.documents(h, 'puts')
    for (let i = n; i < n + 100; i++) await db.put(queryDoc(i, 2 * n))
    const start = performance.now()
    for (let i = 0; i < n; i++) await db.put(queryDoc(i, n))
    return { opsPerSec: (n / (performance.now() - start)) * 1000 }
  } finally {
    await closeHost(h)
  }
}

/**
 * didbase, two nodes over loopback: the reader watches an author's latest PAGE documents
 * (`sort` by signed time, through an index on author and time); the writer puts `n`
 * documents of that author one after another, each once the watch has shown the last. Per
 * write: ms from the reader's `update` event of its entry until the watch emits a page that
 * holds it (negative if the page came first).
 */
export async function didbaseLiveQuery (n) {
  const a = await host()
  const b = await host()
  const stop = new AbortController()
  try {
    const src = await openDocs(a, 'live')
    await b.didbase.dial(a.didbase.multiaddrs[0])
    const dst = await openDocs(b, src.address, [['value.author', 'time']])
    const query = { where: { 'value.author': 'live' }, sort: [['time', 'desc']], limit: PAGE }
    assertPlan(dst, query, { shape: 'live', index: ['value.author', 'time'], order: true }, true)
    const updated = new Map()
    const emitted = new Map()
    let failed
    dst.addEventListener('update', (e) => { if (!updated.has(e.detail.hash)) updated.set(e.detail.hash, performance.now()) })
    dst.watch(query, {
      signal: stop.signal,
      onPage: (page) => {
        const at = performance.now()
        for (const r of page.records) if (!emitted.has(r.hash)) emitted.set(r.hash, at)
      },
      onError: (err) => { failed = err }
    })
    const delays = []
    for (let i = 0; i < LIVE_WARM_UP + n; i++) {
      const hash = await src.put({ _id: `live${i}`, author: 'live', n: i })
      await until(() => {
        if (failed) throw failed
        return emitted.has(hash)
      }, `the watch to emit live write ${i}`, 60_000, 1)
      if (!updated.has(hash)) throw new Error(`bench: the watch emitted live write ${i} but the reader had no update event of it`)
      delays.push(emitted.get(hash) - updated.get(hash))
    }
    return liveDelays(delays)
  } finally {
    stop.abort()
    await closeHost(a)
    await closeHost(b)
  }
}

/**
 * Raw OrbitDB, the same: it has no live query, so the reader runs the query again on each
 * `update` event (query(fn), sorted by n and cut to PAGE in JS), as an app would. Per write:
 * ms from the event until that page, holding the document, is there.
 */
export async function orbitdbLiveQuery (n) {
  const a = await host()
  const b = await host()
  try {
    const src = await sides.orbitdb.documents(a, 'live')
    await b.didbase.dial(a.didbase.multiaddrs[0])
    const dst = await sides.orbitdb.documents(b, src.address)
    const emitted = new Map()
    dst.events.on('update', async (entry) => {
      const start = performance.now()
      const page = (await dst.query((d) => d.author === 'live')).sort((x, y) => y.n - x.n).slice(0, PAGE)
      if (page.some((d) => d._id === entry.payload.key)) emitted.set(entry.payload.key, performance.now() - start)
    })
    const delays = []
    for (let i = 0; i < LIVE_WARM_UP + n; i++) {
      await src.put({ _id: `live${i}`, author: 'live', n: i })
      await until(() => emitted.has(`live${i}`), `OrbitDB's page to hold live write ${i}`, 60_000, 1)
      delays.push(emitted.get(`live${i}`))
    }
    return liveDelays(delays)
  } finally {
    await closeHost(a)
    await closeHost(b)
  }
}
