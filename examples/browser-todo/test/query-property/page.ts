/**
 * The test page of query-property.spec.ts: the property of test/queries-property.spec.ts,
 * run inside Chromium on IndexedDB. The page's node keeps its identity, blocks, logs and
 * query indexes in IndexedDB databases named after DIRECTORY; the other writer (`b`) is a
 * Node peer the spec runs, reached over a WebSocket on loopback and driven through
 * Playwright's exposed `peerB`, so its writes reach the page's indexes by replication.
 * fast-check runs here, in the page; the spec only reads the result.
 */
import { createDidbase, type Didbase, type DocumentsDatabase } from '@didbase/sdk'
import fc from 'fast-check'
import { answer, INDEXES, type OracleQuery, type OracleRecord, query, step as write } from '../../../../test/src/query-oracle.ts'
import { DIRECTORY, type PeerRequest, type RunConfig, type RunResult, type Write } from './shared.ts'

type Docs = DocumentsDatabase<Record<string, unknown>>

/** A heads sync that takes longer is counted (RunResult.slowSyncs), not failed. */
const SLOW_SYNC_MS = 5_000

async function peerB<T> (request: PeerRequest): Promise<T> {
  return JSON.parse(await window.peerB(JSON.stringify(request))) as T
}

async function waitFor (check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let delay = 10
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 100)
  }
}

async function collect<T> (source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

/** A node on IndexedDB that listens on nothing and may dial only the Node peer. */
async function start (peer: string): Promise<Didbase> {
  const through = peer.split('/p2p/')[0] ?? peer
  return createDidbase({
    directory: DIRECTORY,
    listen: [],
    bootstrap: [],
    iceServers: [],
    // libp2p in a browser refuses ws:// to private addresses by default; allow the peer's only.
    connectionGater: { denyDialMultiaddr: async (ma) => !ma.toString().startsWith(through) }
  })
}

/** Page through `q` on `db` and compare every page with the oracle's answer over the replica's own records (as the Node test does). */
async function check (db: Docs, q: OracleQuery, strategies: Map<string, number>): Promise<void> {
  const base = { where: q.where as never, sort: q.sort as never, ...(q.limit !== undefined ? { limit: q.limit } : {}) }
  const strategy = db.explain(base).strategy
  strategies.set(strategy, (strategies.get(strategy) ?? 0) + 1)
  const records = await collect(db.entries())
  const expected = answer(records as OracleRecord[], q).map((r) => `${r.key}@${r.hash}`)
  const got: string[] = []
  const how = (): string => `${JSON.stringify(q)} via ${JSON.stringify(db.explain({ where: q.where as never, sort: q.sort as never }))}`
  let after: string | undefined
  for (let pages = 0; ; pages++) {
    const page = await db.find({ ...base, ...(after !== undefined ? { after } : {}) })
    if (q.limit !== undefined && page.records.length > q.limit) throw new Error(`${how()}: a page of ${page.records.length} records, over the limit`)
    got.push(...page.records.map((r) => `${r.key}@${r.hash}`))
    if (page.cursor === undefined) break
    if (page.records.length !== q.limit) throw new Error(`${how()}: a page with a cursor holds ${page.records.length} records, not the limit`)
    after = page.cursor
    if (pages >= 100) throw new Error(`${how()}: more than 100 pages`)
  }
  if (JSON.stringify(got) !== JSON.stringify(expected)) {
    throw new Error(`${how()}: the pages gave ${JSON.stringify(got)}, the oracle ${JSON.stringify(expected)} (of ${JSON.stringify(records)})`)
  }
  const count = await db.count(q.where as never)
  if (count !== expected.length) throw new Error(`${how()}: count() is ${count}, the oracle selects ${expected.length}`)
}

async function apply (db: Docs, w: Write): Promise<void> {
  if (w.kind === 'put') await db.put({ _id: w.key, ...w.value })
  else if (w.kind === 'del') { if (await db.get(w.key) !== undefined) await db.del(w.key) }
  else {
    const dels: string[] = []
    for (const key of w.dels) if (await db.get(key) !== undefined) dels.push(key)
    await db.batch((batch) => {
      for (const [key, value] of w.puts) batch.put({ _id: key, ...value })
      for (const key of dels) batch.del(key)
    })
  }
}

async function fromPeer (db: Docs, did: string): Promise<boolean> {
  for await (const record of db.entries()) if (record.writer === did) return true
  return false
}

function errorText (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

async function indexedDbNames (): Promise<string[]> {
  return (await indexedDB.databases()).map((d) => d.name ?? '').filter((name) => name.includes(DIRECTORY)).sort()
}

window.runQueryProperty = async (config: RunConfig): Promise<RunResult> => {
  const started = Date.now()
  const strategies = new Map<string, number>()
  let node = await start(config.peer)
  const dids = [node.user]
  let queries = 0
  let restarts = 0
  let replicatedRuns = 0
  let slowSyncs = 0
  let run = 0
  const writers = (): string[] => [dids[0] as string, config.peerDid]

  const property = fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 25 }), fc.array(query, { minLength: 1, maxLength: 6 }), fc.boolean(), async (steps, qs, restart) => {
    const name = `prop-${run++}`
    await node.dial(config.peer)
    let onA = await node.documents(name, { writers: writers(), indexes: INDEXES })
    const address = onA.address
    await peerB({ op: 'open', address })
    const synced = async (): Promise<void> => {
      const since = Date.now()
      await waitFor(async () => JSON.stringify((await onA.heads()).sort()) === JSON.stringify((await peerB<string[]>({ op: 'heads', address })).sort()), 'both replicas to hold the same heads')
      if (Date.now() - since > SLOW_SYNC_MS) slowSyncs++
    }
    try {
      for (const step of steps) {
        if (step.kind === 'sync') await synced()
        else if (step.kind === 'reopen') {
          await onA.close()
          onA = await node.documents(name, { writers: writers(), indexes: INDEXES })
        } else if (step.on === 'b') await peerB({ op: 'write', address, write: step })
        else await apply(onA, step)
      }
      if (restart) {
        // The same directory: the identity, the peer key and every store come back from IndexedDB.
        await onA.close()
        await node.close()
        node = await start(config.peer)
        restarts++
        dids.push(node.user)
        if (node.user !== dids[0]) throw new Error(`the restarted node is ${node.user}, not ${dids[0]}: the identity kept in IndexedDB was not reused`)
        await node.dial(config.peer)
        onA = await node.documents(name, { writers: writers(), indexes: INDEXES })
        if (onA.address !== address) throw new Error(`the restarted node opened ${name} at ${onA.address}, not ${address}`)
      }
      await synced()
      if (await fromPeer(onA, config.peerDid)) replicatedRuns++
      for (const q of qs) {
        queries++
        await check(onA, q, strategies)
      }
    } finally {
      await onA.close()
      await peerB({ op: 'close', address })
    }
  })

  const details = await fc.check(property, {
    numRuns: config.numRuns,
    ...(config.seed !== undefined ? { seed: config.seed } : {}),
    interruptAfterTimeLimit: config.timeLimitMs,
    markInterruptAsFailure: false
  })
  const indexedDb = await indexedDbNames()
  await node.close()
  return {
    failed: details.failed,
    interrupted: details.interrupted,
    numRuns: details.numRuns,
    numShrinks: details.numShrinks,
    seed: details.seed,
    ...(details.failed ? { report: await fc.asyncDefaultReportMessage(details), counterexample: fc.stringify(details.counterexample), error: errorText(details.errorInstance) } : {}),
    strategies: Object.fromEntries(strategies),
    queries,
    restarts,
    replicatedRuns,
    slowSyncs,
    dids,
    indexedDb,
    ms: Date.now() - started
  }
}
