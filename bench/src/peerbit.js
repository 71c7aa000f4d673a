// Peerbit (peerbit 5.3 + @peerbit/document 13.1) as a third side, used the way its docs
// show: one Peerbit node per peer, on disk in a temporary directory (`Peerbit.create({
// directory })`: LevelDB blocks, SQLite index), a Program holding one Documents store of
// documents shaped like the didbase bench's ({ _id, n }), full replicas (replicate factor
// 1), peers dialled over loopback TCP. Each measure returns its figures, as measures.js does.
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { field, variant } from '@dao-xyz/borsh'
import { Documents, IntegerCompare, SearchRequest, Sort, SortDirection, StringMatch } from '@peerbit/document'
import { Program } from '@peerbit/program'
import { Peerbit } from 'peerbit'
import { checkAnswer, LIVE_WARM_UP, liveDelays, PAGE, params, queryDoc, timeCalls } from './query-shapes.js'
import { until } from './until.js'

/** A document; the borsh decorators are applied by hand, as plain JS has no decorators. */
export class Doc {
  constructor (props) {
    if (props) {
      this._id = props._id
      this.n = props.n
    }
  }
}
// The variant first, then the fields: the order stage-3 decorators apply them in.
variant('didbase-bench-doc')(Doc)
field({ type: 'string' })(Doc.prototype, '_id')
field({ type: 'u32' })(Doc.prototype, 'n')

/** The program a peer opens: one Documents store, indexed by `_id`. */
export class Store extends Program {
  constructor () {
    super()
    this.docs = new Documents()
  }

  async open (args) {
    await this.docs.open({ ...args, type: Doc, index: { idProperty: '_id' } })
  }
}
variant('didbase-bench-store')(Store)
field({ type: Documents })(Store.prototype, 'docs')

/** A document of the query rows (query-shapes.js): `{ _id, author, n }`. */
export class QueryDoc {
  constructor (props) {
    if (props) {
      this._id = props._id
      this.author = props.author
      this.n = props.n
    }
  }
}
variant('didbase-bench-query-doc')(QueryDoc)
field({ type: 'string' })(QueryDoc.prototype, '_id')
field({ type: 'string' })(QueryDoc.prototype, 'author')
field({ type: 'u32' })(QueryDoc.prototype, 'n')

/** The program of the query rows: one Documents store of QueryDoc, indexed by `_id` (its SQLite index holds every field). */
export class QueryStore extends Program {
  constructor () {
    super()
    this.docs = new Documents()
  }

  async open (args) {
    await this.docs.open({ ...args, type: QueryDoc, index: { idProperty: '_id' } })
  }
}
variant('didbase-bench-query-store')(QueryStore)
field({ type: Documents })(QueryStore.prototype, 'docs')

/** Documents `from`..`to` - 1; warm-ups use another prefix (borsh has no signed ints for `n`). */
const docs = (from, to, prefix = 'd') => Array.from({ length: to - from }, (_, k) => new Doc({ _id: `${prefix}${from + k}`, n: from + k }))
/** putMany appends a batch at once only with both options; else it puts one by one. */
const BATCH = { unique: true, target: 'none' }

/** A Peerbit node on disk in its own temporary directory. */
export async function peer () {
  const directory = await mkdtemp(join(tmpdir(), 'peerbit-bench-'))
  return { directory, client: await Peerbit.create({ directory }) }
}

export async function closePeer (p) {
  try {
    await p.client.stop()
  } finally {
    await rm(p.directory, { recursive: true, force: true })
  }
}

/** Open a new store, or an existing one by its address, as a full replica. */
export const open = (p, storeOrAddress = new Store()) => p.client.open(storeOrAddress, { args: { replicate: { factor: 1 } } })

/** Its loopback TCP addresses: it also listens on WebSockets and circuit relay. */
export const tcpAddrs = (p) => p.client.getMultiaddrs().filter((a) => /\/tcp\/\d+\/p2p\//.test(a.toString()))

/** Run `body` with `count` new peers, always closing them and deleting their directories. */
async function withPeers (count, body) {
  const peers = []
  try {
    for (let i = 0; i < count; i++) peers.push(await peer())
    return await body(...peers)
  } finally {
    await Promise.allSettled(peers.map(closePeer))
  }
}

/** Write `list`: awaited puts, or putMany batches of `batch`. */
async function write (store, list, batch) {
  if (!batch) {
    for (const d of list) await store.docs.put(d)
    return
  }
  for (let i = 0; i < list.length; i += batch) await store.docs.putMany(list.slice(i, i + batch), BATCH)
}

const hasDoc = async (store, id) => (await store.docs.index.get(id, { local: true, remote: false })) !== undefined
const warmUp = (store, batch) => write(store, docs(0, batch ?? 100, 'w'), batch)

/** `n` awaited puts after 100 of warm-up: ops/s. */
export const awaitedPuts = (n) => withPeers(1, async (a) => {
  const store = await open(a)
  await warmUp(store)
  const start = performance.now()
  await write(store, docs(0, n))
  return { opsPerSec: (n / (performance.now() - start)) * 1000 }
})

/** `n` documents by putMany in batches of `size`, after one batch of warm-up: documents/s. */
export const batchPuts = (n, size) => withPeers(1, async (a) => {
  const store = await open(a)
  await warmUp(store, size)
  const start = performance.now()
  await write(store, docs(0, n), size)
  return { opsPerSec: (n / (performance.now() - start)) * 1000 }
})

/** `n` puts issued at once and awaited together (Promise.all), after 100 of warm-up: ops/s. */
export const burstPuts = (n) => withPeers(1, async (a) => {
  const store = await open(a)
  await warmUp(store)
  const start = performance.now()
  await Promise.all(docs(0, n).map((d) => store.docs.put(d)))
  const opsPerSec = (n / (performance.now() - start)) * 1000
  if ((await store.docs.count()) !== n + 100) throw new Error('bench: Peerbit lost puts of a burst')
  return { opsPerSec }
})

/**
 * A fresh replica catches up with `n` documents: entries/s and ms per entry. As in
 * measures.js, the clock starts once connected, before the replica opens the store; done
 * when its index counts all `n`. `batch`: the writer used putMany batches of that size,
 * and null after `limitMs`: entries of its batched path carry no replica count
 * (`meta.data`), and a replica rejects the heads ("Missing meta data"), in 13.1.29.
 */
export const catchUp = (n, batch, limitMs) => withPeers(2, async (a, b) => {
  const src = await open(a)
  await write(src, docs(0, n), batch)
  await b.client.dial(tcpAddrs(a))
  const start = performance.now()
  const dst = await open(b, src.address)
  const late = () => limitMs !== undefined && performance.now() - start > limitMs
  await until(async () => (await dst.docs.count()) >= n || late(), `Peerbit catch-up of ${n} documents`)
  const ms = performance.now() - start
  if ((await dst.docs.count()) < n) return null
  return { entriesPerSec: (n / ms) * 1000, msPerEntry: ms / n }
})

/** Both replicating and connected, `n` rapid awaited puts: ms from the last until the replica has it. */
export const liveLag = (n) => withPeers(2, async (a, b) => {
  const src = await open(a)
  await b.client.dial(tcpAddrs(a))
  const dst = await open(b, src.address)
  // Both ends hold the store and see each other before the first timed write.
  await write(src, docs(0, 1, 'w'))
  await until(() => hasDoc(dst, 'w0'), 'the first live Peerbit document to arrive', 60_000)
  await write(src, docs(0, n))
  const start = performance.now()
  await until(() => hasDoc(dst, `d${n - 1}`), `the last of ${n} live Peerbit documents to arrive`)
  return { lagMs: performance.now() - start }
})

/** Peak RSS of a replica process (peerbit-replica.js) that catches up with `n` documents. */
export const replicaRss = (n) => withPeers(1, async (a) => {
  const src = await open(a)
  await write(src, docs(0, n))
  const child = fork(new URL('./peerbit-replica.js', import.meta.url), [src.address, String(n), tcpAddrs(a)[0].toString()])
  try {
    // It reports, then closes its node and deletes its directory before it exits.
    let result
    child.on('message', (m) => { result = m })
    await new Promise((resolve) => child.on('exit', resolve))
    if (!result) throw new Error(`bench: the Peerbit replica process exited with ${child.exitCode} before reporting`)
    return result
  } finally {
    child.kill()
  }
})

/** QueryDoc `from`..`to` - 1 of `n`. */
const queryDocs = (from, to, n) => Array.from({ length: to - from }, (_, k) => new QueryDoc(queryDoc(from + k, n)))
/** Search this replica's index only. */
const LOCAL = { local: true, remote: false }

/**
 * The query rows' shapes (query-shapes.js) over `n` documents written by putMany batches of
 * `size`: its indexed search (`index.search`, a SearchRequest of `fetch` PAGE for the range,
 * every match for the equality) and its count, each checked; ms per query, and the putMany
 * rate of the fill (documents/s). Its SQLite index holds every field and makes its own SQL
 * indexes for the queries it sees (the warm-up call of each shape does that).
 */
export const queries = (n, size, progress) => withPeers(1, async (a) => {
  const store = await open(a, new QueryStore())
  const start = performance.now()
  for (let i = 0; i < n; i += size) {
    await store.docs.putMany(queryDocs(i, Math.min(i + size, n), n), BATCH)
    if (i % 10_000 === 10_000 - size) progress(`Peerbit: ${i + size} of ${n} documents written`)
  }
  const fillPerSec = (n / (performance.now() - start)) * 1000
  if ((await store.docs.count()) !== n) throw new Error(`bench: Peerbit's index does not hold the ${n} query documents`)
  const p = params(n)
  const inWindow = (i) => {
    const { lo, hi } = p.window(i)
    return [new IntegerCompare({ key: 'n', compare: 'gte', value: lo }), new IntegerCompare({ key: 'n', compare: 'lt', value: hi })]
  }
  const runs = {
    // A plain query: search then fetches every match (a SearchRequest fetches 10 unless told).
    equality: async (i) => store.docs.index.search({ query: [new StringMatch({ key: 'author', value: p.author(i) })] }, LOCAL),
    range: async (i) => store.docs.index.search(new SearchRequest({ query: inWindow(i), sort: [new Sort({ key: 'n', direction: SortDirection.DESC })], fetch: PAGE }), LOCAL),
    count: async (i) => store.docs.count({ query: inWindow(i) })
  }
  const figures = { fillPerSec }
  for (const [shape, run] of Object.entries(runs)) figures[shape] = await timeCalls(async (i) => checkAnswer(shape, await run(i), i, n))
  return figures
})

/** The query rows' documents, `n` awaited puts after 100 of warm-up: ops/s. */
export const queryPuts = (n) => withPeers(1, async (a) => {
  const store = await open(a, new QueryStore())
  for (const d of queryDocs(n, n + 100, 2 * n)) await store.docs.put(d)
  const start = performance.now()
  for (const d of queryDocs(0, n, n)) await store.docs.put(d)
  return { opsPerSec: (n / (performance.now() - start)) * 1000 }
})

/**
 * The live query rows' figure: two peers, the reader iterating an author's documents with
 * live updates (`iterate(…, { updates: { merge: true, notify } })`, calling `next` when
 * notified), the writer putting `n` documents of that author one after another, each once
 * the reader has it. Its iterator yields only documents that sort after those it has
 * yielded (earlier ones are late, and dropped), so it sorts by n ascending, where each new
 * document comes last. Per write: ms from the reader's `change` event of the document until
 * the iterator yields it.
 */
export const liveQuery = (n) => withPeers(2, async (a, b) => {
  const src = await open(a, new QueryStore())
  await b.client.dial(tcpAddrs(a))
  const dst = await open(b, src.address)
  const changed = new Map()
  const yielded = new Map()
  dst.docs.changes.addEventListener('change', (e) => {
    const at = performance.now()
    for (const d of e.detail.added) if (!changed.has(d._id)) changed.set(d._id, at)
  })
  let failed
  const live = dst.docs.index.iterate({ query: [new StringMatch({ key: 'author', value: 'live' })], sort: [new Sort({ key: 'n', direction: SortDirection.ASC })] }, {
    local: true,
    remote: false,
    closePolicy: 'manual',
    updates: {
      merge: true,
      notify: () => { live.next(PAGE).catch((err) => { failed = err }) },
      onBatch: (batch) => {
        const at = performance.now()
        for (const d of batch) if (!yielded.has(d._id)) yielded.set(d._id, at)
      }
    }
  })
  try {
    await live.next(PAGE)
    const delays = []
    for (let i = 0; i < LIVE_WARM_UP + n; i++) {
      await src.docs.put(new QueryDoc({ _id: `live${i}`, author: 'live', n: i }))
      await until(() => {
        if (failed) throw failed
        return yielded.has(`live${i}`)
      }, `Peerbit's live iterator to yield live write ${i}`, 60_000, 1)
      if (!changed.has(`live${i}`)) throw new Error(`bench: Peerbit's live iterator yielded live write ${i} before its change event`)
      delays.push(yielded.get(`live${i}`) - changed.get(`live${i}`))
    }
    return liveDelays(delays)
  } finally {
    await live.close()
  }
})
