/**
 * The always-on replicator behind `didbase peer`: it keeps databases on disk and serves
 * them while their writers are offline, checking every entry against each database's
 * policy like any replica. It relays for peers that cannot be dialed (browsers), and keeps
 * databases that clients ask it to, when their creators are ones it serves.
 *
 * @module replicator
 */
/// <reference types="@didbase/access/orbitdb-core" preserve="true" />
// First: on a Node.js too old for the network stack, fail with a message that says so.
import '../runtime/check.js'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PolicyBlock } from '@didbase/access'
import { ACL_TYPE, ANYONE, type BlockstoreLike, loadPolicy } from '@didbase/access/internal'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import { type AnyDatabase, createDidbase, type Didbase } from '../didbase.js'
import type { AbortOptions } from '../abort.js'
import { PinRefusedError } from '../errors.js'
import { parseAddress, readManifest } from '../databases/manifest.js'
import { DEFAULT_OPEN_TIMEOUT } from '../databases/open.js'
import { handlePins } from './pin.js'
import { debugLog } from '../log.js'

const debug = debugLog('replicator')

export type ReplicatorLog = (event: string, detail: Record<string, unknown>) => void

export interface ReplicatorInit {
  /** Where identity, blocks, databases and the list of served databases live. */
  directory: string
  /** Multiaddrs to listen on (TCP, and `/ws` for browsers). */
  listen: string[]
  /** Peers to dial at start and keep connected. */
  peers?: string[]
  /** Databases to serve, besides those served before from `directory`. */
  serve?: string[]
  /**
   * Keep databases that clients ask for (`didbase.pin`) when these DIDs created them: every
   * founding admin of an ACL database, or every writer of a fixed set, is one of them.
   * `'*'` accepts any didbase database. Empty (default): pin requests are refused.
   */
  creators?: string[]
  /** Be a circuit relay for browsers. Default true. */
  relay?: boolean
  /** How long to wait for a database's manifest from peers, in ms. Default 30 000. */
  openTimeout?: number
  /** Told of everything that happens; `didbase peer` prints it. */
  log?: ReplicatorLog
}

export interface Replicator {
  readonly didbase: Didbase
  /** Addresses of the databases being served. */
  serving: () => string[]
  /** Open, keep and serve a database from now on, across restarts too. */
  serve: (address: string, options?: AbortOptions) => Promise<AnyDatabase>
  /** Close every database and stop; everything received is on disk. Idempotent, like `Didbase.close`. */
  close: (options?: AbortOptions) => Promise<void>
  /** @deprecated The same as `close`, the name every other didbase lifecycle uses. */
  stop: () => Promise<void>
}

const SERVED_FILE = 'served.json'

async function readServed (directory: string): Promise<string[]> {
  try {
    const list = JSON.parse(await readFile(join(directory, SERVED_FILE), 'utf8')) as unknown
    return Array.isArray(list) ? list.filter((a): a is string => typeof a === 'string') : []
  } catch {
    return []
  }
}

async function writeServed (directory: string, addresses: string[]): Promise<void> {
  const path = join(directory, SERVED_FILE)
  await writeFile(`${path}.tmp`, `${JSON.stringify(addresses, null, 2)}\n`)
  await rename(`${path}.tmp`, path)
}

/** The DIDs that decide who writes to a database with this policy. */
function controllersOf (policy: PolicyBlock): string[] {
  return policy.type === ACL_TYPE ? policy.admins ?? [] : policy.writers
}

/** Whether `creators` control a database with this policy alone: no one else can make it hold data. */
export function createdBy (policy: PolicyBlock, creators: readonly string[]): boolean {
  if (creators.includes(ANYONE)) return true
  const controllers = controllersOf(policy)
  return controllers.length > 0 && controllers.every((did) => did !== ANYONE && creators.includes(did))
}

/** The circuit relay service, when this node runs one: its `reservations` are the peers it relays for. */
export function relayOf (didbase: Didbase): CircuitRelayService | undefined {
  return (didbase.helia.libp2p.services as { relay?: CircuitRelayService }).relay
}

/** How long a pin waits for the asking peer's heads before it answers anyway (the fetch goes on). */
const EXCHANGE_TIMEOUT = 20_000

export async function startReplicator (init: ReplicatorInit): Promise<Replicator> {
  const log: ReplicatorLog = init.log ?? (() => {})
  const creators = init.creators ?? []
  const openTimeout = init.openTimeout ?? DEFAULT_OPEN_TIMEOUT
  const didbase = await createDidbase({
    directory: init.directory,
    listen: init.listen,
    bootstrap: init.peers ?? [],
    relay: init.relay !== false,
    openTimeout
  })
  const served = new Map<string, AnyDatabase>()
  const wanted = [...new Set([...(await readServed(init.directory)), ...(init.serve ?? [])])]

  log('started', { did: didbase.did, peerId: didbase.peerId })
  for (const address of didbase.multiaddrs) log('listening', { address })
  if (relayOf(didbase) !== undefined) log('relaying', { protocol: 'circuit relay v2' })

  const serve = async (address: string, options?: AbortOptions): Promise<AnyDatabase> => {
    const existing = served.get(address)
    if (existing !== undefined) return existing
    const db = await didbase.open(address, options)
    db.addEventListener('update', (e) => log('update', { db: address, writer: e.detail.did, entry: e.detail.hash }))
    db.addEventListener('entry:rejected', (e) => log('rejected', { db: address, writer: e.detail.did, reason: e.detail.reason, entry: e.detail.hash }))
    db.addEventListener('peer:join', (e) => log('peer', { db: address, peerId: e.detail.peerId }))
    db.addEventListener('sync:progress', (e) => { if (e.detail.done) log('synced', { db: address, received: e.detail.received }) })
    served.set(address, db)
    if (!wanted.includes(address)) wanted.push(address)
    await writeServed(init.directory, wanted)
    log('serving', { db: address, type: db.type, entries: await db.size() })
    return db
  }

  // One request at a time: each may fetch blocks from the asking peer.
  let pins = Promise.resolve()
  /** The database a pin names, once it passes the checks; opened and served from now on. */
  const admit = async (address: string): Promise<AnyDatabase> => {
    const existing = served.get(address)
    if (existing !== undefined) return existing
    if (creators.length === 0) throw new PinRefusedError('this peer serves a fixed list of databases (start it with --creators to accept requests)', 'not-accepting')
    let cid: ReturnType<typeof parseAddress>
    try {
      cid = parseAddress(address)
    } catch (err) {
      throw new PinRefusedError((err as Error).message, 'invalid-request')
    }
    if (cid === undefined) throw new PinRefusedError(`${address} is not a database address`, 'invalid-request')
    const blockstore = didbase.helia.blockstore as unknown as BlockstoreLike
    let policy: PolicyBlock
    try {
      policy = await loadPolicy(blockstore, (await readManifest(blockstore, cid, AbortSignal.timeout(openTimeout))).accessController)
    } catch (err) {
      const e = err as Error
      throw new PinRefusedError(e.message, e.name === 'UnknownDatabaseError' ? 'unknown-database' : 'unsupported')
    }
    if (!createdBy(policy, creators)) {
      throw new PinRefusedError(`${address} is controlled by ${controllersOf(policy).join(', ')}, not only by DIDs this peer serves`, 'not-allowed')
    }
    return serve(address)
  }
  const decide = async (address: string, remotePeer: string): Promise<void> => {
    const db = await admit(address)
    // Reply once the asking peer's heads are applied here, so it may go offline at once.
    await db.whenSynced({ peerId: remotePeer, signal: AbortSignal.timeout(EXCHANGE_TIMEOUT) }).catch((err) => {
      debug('no heads exchange with %s for %s before pinning: %e', remotePeer, address, err)
    })
    log('pinned', { db: address, by: remotePeer, entries: await db.size() })
  }
  await handlePins(didbase.helia.libp2p, async (address, remotePeer) => {
    const result = pins.then(async () => decide(address, remotePeer))
    pins = result.catch(() => {})
    try {
      await result
    } catch (err) {
      log('pin-refused', { db: address, by: remotePeer, reason: (err as PinRefusedError).reason ?? 'failed' })
      throw err
    }
  })

  for (const address of wanted) {
    try {
      await serve(address)
    } catch (err) {
      log('not-serving', { db: address, error: (err as Error).name, message: (err as Error).message })
    }
  }

  return {
    didbase,
    serving: () => [...served.keys()],
    serve,
    close: async (options) => didbase.close(options),
    stop: async () => didbase.close()
  }
}
