/**
 * Indexed queries on IndexedDB answer exactly what a plain scan answers: the property of
 * test/queries-property.spec.ts (which runs it on LevelDB), run inside real Chromium with
 * fast-check. Page after page with cursors, and count(), equal the oracle's answer
 * (test/src/query-oracle.ts) after random puts, deletes and batches from two writers, a
 * database reopened and the page's node restarted on the same IndexedDB directory (and the
 * same DID, from the key the SDK keeps there).
 *
 * The page (query-property/page.ts) is built with Vite into a temporary folder, served
 * from loopback and driven by playwright-core. Its node listens on nothing; the second
 * writer is a didbase peer in this process (LevelDB, WebSockets on 127.0.0.1), which the
 * page dials: the page asks it to write through a Playwright binding, and its writes reach
 * the page's indexes by replication. Only the page's replica is compared here; the peer's
 * (LevelDB) is the Node test's.
 *
 * Resync stays at its default (15 s), as in the Node test. A database closed and opened
 * again at once can hold the live path of a write back by up to 10-15 s (the log line's
 * `slowSyncs` counts heads syncs over 5 s); that is a delay, not a wrong answer, so it is
 * reported there and not failed here.
 *
 * DIDBASE_BROWSER_QUERY_RUNS sets the number of runs (default 15, about 10 s in the page),
 * DIDBASE_BROWSER_QUERY_SEED replays a failure's seed (the report prints it). A failure
 * prints fast-check's shrunk counterexample and the error: the query, the strategy, what
 * the pages gave and what the oracle answers.
 */
import { execFile } from 'node:child_process'
import { readFile, mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server as HttpServer } from 'node:http'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import { createDidbase, type Didbase, type DocumentsDatabase } from '@didbase/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXAMPLE, openBrowser, type Person, profileDir } from './harness.ts'
import { INDEXES } from '../../../test/src/query-oracle.ts'
import type { PeerRequest, RunConfig, RunResult } from './query-property/shared.ts'

const RUNS = Number(process.env.DIDBASE_BROWSER_QUERY_RUNS ?? 15)
const SEED = process.env.DIDBASE_BROWSER_QUERY_SEED
/** New runs stop after this long; fewer runs than asked fail the test. */
const TIME_LIMIT_MS = 90_000

type Docs = DocumentsDatabase<Record<string, unknown>>

let out = ''
let http: HttpServer | undefined
let url = ''
let peer: Didbase | undefined
let peerDir = ''
let profile = ''
let person: Person | undefined

/** Vite, with the page's own config: into `outDir`, not the example's dist/. */
async function buildPage (outDir: string): Promise<void> {
  const vite = join(EXAMPLE, '..', '..', 'node_modules', '.bin', 'vite')
  await new Promise<void>((resolve, reject) => {
    execFile(vite, ['build', '--config', join(EXAMPLE, 'test', 'query-property', 'vite.config.ts'), '--outDir', outDir, '--logLevel', 'warn'], { cwd: EXAMPLE }, (err, _out, stderr) => {
      err === null ? resolve() : reject(new Error(`vite build of the query test page failed: ${stderr}`))
    })
  })
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' }

/** The built page, from loopback. */
async function serve (dir: string): Promise<string> {
  http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    const file = normalize(join(dir, path === '/' ? 'index.html' : path))
    if (!file.startsWith(dir)) { res.writeHead(404).end(); return }
    readFile(file).then((body) => {
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
      res.end(body)
    }, () => { res.writeHead(404).end() })
  })
  await new Promise<void>((resolve) => http?.listen(0, '127.0.0.1', resolve))
  const address = http.address()
  if (typeof address !== 'object' || address === null) throw new Error('no address')
  return `http://127.0.0.1:${address.port}/`
}

/** The second writer: what the page asks of it, one request at a time. */
function peerB (node: Didbase): (request: string) => Promise<string> {
  const open = new Map<string, Docs>()
  const db = (address: string): Docs => {
    const found = open.get(address)
    if (found === undefined) throw new Error(`the peer has no open database ${address}`)
    return found
  }
  return async (request) => {
    const r = JSON.parse(request) as PeerRequest
    if (r.op === 'open') open.set(r.address, await node.documents(r.address, { indexes: INDEXES }))
    else if (r.op === 'heads') return JSON.stringify(await db(r.address).heads())
    else if (r.op === 'close') {
      await open.get(r.address)?.close()
      open.delete(r.address)
    } else {
      const on = db(r.address)
      const w = r.write
      if (w.kind === 'put') await on.put({ _id: w.key, ...w.value })
      else if (w.kind === 'del') { if (await on.get(w.key) !== undefined) await on.del(w.key) }
      else {
        const dels: string[] = []
        for (const key of w.dels) if (await on.get(key) !== undefined) dels.push(key)
        await on.batch((batch) => {
          for (const [key, value] of w.puts) batch.put({ _id: key, ...value })
          for (const key of dels) batch.del(key)
        })
      }
    }
    return '{}'
  }
}

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'didbase-query-page-'))
  await buildPage(out)
  url = await serve(out)
  peerDir = await profileDir('query-peer')
  peer = await createDidbase({ directory: peerDir, listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
  profile = await profileDir('query-page')
  person = await openBrowser(profile)
}, 120_000)

afterAll(async () => {
  await person?.context.close()
  await peer?.close()
  if (http !== undefined) await new Promise((resolve) => http?.close(resolve))
  for (const dir of [out, peerDir, profile]) if (dir !== '') await rm(dir, { recursive: true, force: true })
})

describe('indexed queries against a plain scan, in Chromium', () => {
  it('give the same pages after puts, deletes, batches, replication, a reopen and a restart (IndexedDB)', async () => {
    if (peer === undefined || person === undefined) throw new Error('not set up')
    const address = peer.multiaddrs.find((a) => a.includes('/ws/'))
    if (address === undefined) throw new Error('the peer has no WebSocket address')
    const { page } = person
    await page.exposeFunction('peerB', peerB(peer))
    await page.goto(url)
    await page.waitForFunction(() => typeof window.runQueryProperty === 'function', null, { timeout: 30_000 })

    const config: RunConfig = { numRuns: RUNS, timeLimitMs: TIME_LIMIT_MS, peer: address, peerDid: peer.user, ...(SEED !== undefined ? { seed: Number(SEED) } : {}) }
    const result: RunResult = await page.evaluate(async (c) => window.runQueryProperty(c), config)
    const { report, counterexample, error, dids, indexedDb, ...summary } = result
    console.log(JSON.stringify({ example: 'browser-todo', property: 'indexed queries on IndexedDB', ...summary, did: dids[0], indexedDbDatabases: indexedDb.length }))
    if (result.failed) console.error(`the property failed in Chromium (replay with DIDBASE_BROWSER_QUERY_SEED=${result.seed}):\n${report ?? ''}\ncounterexample: ${counterexample ?? ''}\nerror: ${error ?? ''}`)

    expect(result.failed, `${report ?? ''}\n${error ?? ''}`).toBe(false)
    expect(result.interrupted, `stopped after ${result.numRuns} of ${RUNS} runs (${TIME_LIMIT_MS} ms)`).toBe(false)
    expect(result.numRuns).toBe(RUNS)
    // Every way of answering was compared, not only the scan.
    expect(Object.keys(result.strategies).sort()).toEqual(['index-order', 'index-range', 'scan'])
    // The page's node kept its DID across restarts, and its query indexes in IndexedDB.
    expect(new Set(result.dids).size).toBe(1)
    expect(result.restarts).toBeGreaterThan(0)
    // The peer's writes reached the page's indexes by replication.
    expect(result.replicatedRuns).toBeGreaterThan(0)
    expect(result.indexedDb.some((name) => name.endsWith('didbase-query-property/query-indexes'))).toBe(true)
    expect(person.errors).toEqual([])
  }, 180_000)
})
