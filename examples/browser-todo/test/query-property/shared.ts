/**
 * What the test page (page.ts, in Chromium) and query-property.spec.ts (in Node) both use:
 * the writes the property makes, and the messages the page sends the Node peer.
 */
import type { Step } from '../../../../test/src/query-oracle.ts'



/** The IndexedDB "directory" of the page's node: every store it makes is named after it. */
export const DIRECTORY = 'didbase-query-property'

/** A write on one replica: `a` is the page's (IndexedDB), `b` the Node peer's (LevelDB). */
export type Write = Extract<Step, { on: 'a' | 'b' }>

/** What the page asks of the Node peer, as JSON through Playwright's exposed `peerB`. */
export type PeerRequest =
  | { op: 'open', address: string }
  | { op: 'write', address: string, write: Write }
  | { op: 'heads', address: string }
  | { op: 'close', address: string }

export interface RunConfig {
  numRuns: number
  seed?: number
  /** Stop generating new runs after this long (a run cut short is reported, and fails the test). */
  timeLimitMs: number
  /** The Node peer's WebSocket multiaddr, with /p2p/<id>, and its DID (a writer of every database). */
  peer: string
  peerDid: string
}

export interface RunResult {
  failed: boolean
  interrupted: boolean
  numRuns: number
  numShrinks: number
  seed: number
  /** fast-check's report (the counterexample and the error), when the property failed. */
  report?: string
  counterexample?: string
  /** What the counterexample's run threw: which query, what its pages gave, what the oracle says. */
  error?: string
  /** How the queries compared were answered: index-order, index-range, scan. */
  strategies: Record<string, number>
  queries: number
  restarts: number
  /** Runs whose queries ran over records the Node peer wrote: what replication brought into the page's indexes. */
  replicatedRuns: number
  /**
   * Heads syncs that took over 5 s: the live path missed a write and the next resync (15 s)
   * or heads exchange deadline (10 s) brought it. Reported, not failed: it is a delay, and
   * this property is about what the queries answer.
   */
  slowSyncs: number
  /** The page node's user DID at its first start, and after every restart (all equal). */
  dids: string[]
  /** The IndexedDB databases the page's node made. */
  indexedDb: string[]
  ms: number
}

declare global {
  interface Window {
    /** Set by page.ts: run the property with fast-check, in the page. */
    runQueryProperty: (config: RunConfig) => Promise<RunResult>
    /** Exposed by the spec: one request to the Node peer, as JSON both ways. */
    peerB: (request: string) => Promise<string>
  }
}
