/**
 * Where a replica is put together on a node: its OrbitDB database opened with didbase's
 * storage and checked against what was asked, the typed parts it is given, and the handle
 * of its type over it. didbase.ts keeps the node's lifecycle, finding a database by name and
 * the registry of open handles.
 */
import type { DidIdentity } from '@didbase/access'
import { isDidAccessController } from '@didbase/access/internal'
import { multiaddr } from '@multiformats/multiaddr'
import type { Database, OrbitDB } from '@orbitdb/core'
import type { Helia } from 'helia'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { DocumentsDatabase } from '../databases/documents.js'
import { EventLogDatabase } from '../databases/eventlog.js'
import { KeyValueDatabase } from '../databases/keyvalue.js'
import type { DatabaseType, DidbaseMeta } from '../databases/manifest.js'
import { accessControllerFor, bindLogIndex, type CreateChoices, DEFAULT_INDEX_BY, databaseType, enforcesSchema, type Target } from '../databases/open.js'
import { UnsupportedDatabaseError, WrongDatabaseTypeError } from '../errors.js'
import { joinPath } from '../node/platform.js'
import { closableEntryStorage, JoinFetches } from '../storage/entry-storage.js'
import { snapshotStore } from '../storage/index-snapshot.js'
import { LogIndex } from '../storage/log-index.js'
import { queryHeads } from '../sync/heads-query.js'
import type { TopicValidators } from '../sync/peer-penalties.js'
import { exchangeWithNewPeers } from '../upstream/sync-start.js'
import type { ReplicaComponents, ReplicaLifecycle } from './components.js'
import type { IndexLevel } from '../queries/indexes.js'
import { MemoryLevel } from 'memory-level'

/** What a node lends every replica it assembles. */
export interface ReplicaHost {
  helia: Helia
  orbitdb: OrbitDB
  /** Where OrbitDB keeps each database's state (its log index among it). */
  orbitdbDirectory: string
  identity: DidIdentity
  /** Where databases register their topic validators (peer-penalties.ts). */
  validators: TopicValidators
  resync: ReplicaComponents['resync']
  /** Where databases keep their query indexes. */
  queryStore: IndexLevel
}

/** An OrbitDB database opened for a replica, with the parts made for it. */
export interface OpenedDatabase {
  db: Database
  type: DatabaseType
  meta: DidbaseMeta
  fetches: JoinFetches
  logIndex: LogIndex
  /** Aborts the database's block fetches (when it closes). */
  stopping: AbortController
}

/**
 * Open `nameOrAddress` (resolved to `target`) with didbase's entry storage and log index.
 * Throws `WrongDatabaseTypeError` when an address does not enforce the schema asked for, or
 * is not private as asked; `held(address)` says whether another handle holds it open (then
 * it is left open).
 */
export async function openOrbitDatabase (host: ReplicaHost, nameOrAddress: string, target: Target, options: CreateChoices, schemaCid: CID | undefined, held: (address: string) => boolean): Promise<OpenedDatabase> {
  const { type, meta, cid } = target
  const stopping = new AbortController()
  const fetches = new JoinFetches(stopping.signal)
  const logIndex = new LogIndex()
  const db = await host.orbitdb.open(nameOrAddress, {
    type,
    entryStorage: await closableEntryStorage(host.helia, fetches),
    indexStorage: logIndex,
    meta: { ...meta },
    Database: databaseType(type, meta),
    // Sync starts once the handle listens, so no exchange with a peer goes unreported.
    sync: false,
    ...(cid === undefined ? { AccessController: accessControllerFor(options) } : {})
  })
  if (cid !== undefined && schemaCid !== undefined && !(await enforcesSchema(db, schemaCid))) {
    if (!held(db.address)) await db.close()
    throw new WrongDatabaseTypeError(`${nameOrAddress} does not enforce schema ${schemaCid}`)
  }
  // Asking for privacy on an address must never hand back a database whose values are public.
  if (cid !== undefined && (options.private === true || options.readers !== undefined)) {
    const privacy = isDidAccessController(db.access) ? db.access.privacy : undefined
    const readers = options.readers === undefined ? undefined : [...new Set(options.readers)].sort()
    if (privacy === undefined || (readers !== undefined && JSON.stringify(readers) !== JSON.stringify(privacy.readers))) {
      if (!held(db.address)) await db.close()
      throw new WrongDatabaseTypeError(`${nameOrAddress} is ${privacy === undefined ? 'not a private database' : 'private with other readers'}; its values would not be sealed as asked`)
    }
  }
  return { db, type, meta, fetches, logIndex, stopping }
}

/** Load the log index of a database this node opens first, from its stores on disk (log-index.ts). */
export async function bindIndex (host: ReplicaHost, opened: OpenedDatabase): Promise<void> {
  const { db, logIndex } = opened
  await bindLogIndex(logIndex, db, joinPath(host.orbitdbDirectory, db.address, 'log', '_index'), async (hash) => (await isStored(host.helia, hash)) ? db.log.get(hash) : undefined)
}

/** A handle of the database's type over a replica assembled from its parts. `lifecycle` tells the node when it closes. */
export function assembleHandle (host: ReplicaHost, opened: OpenedDatabase, lifecycle: Pick<ReplicaLifecycle, 'onClose'>): KeyValueDatabase | DocumentsDatabase | EventLogDatabase {
  const { db, type, meta, fetches, stopping } = opened
  if (!isDidAccessController(db.access)) throw new UnsupportedDatabaseError(`${db.address} has no didbase access controller`)
  const parts: ReplicaComponents = {
    db,
    policy: db.access,
    identity: host.identity,
    network: {
      topicValidators: host.validators,
      resync: (again) => { exchangeWithNewPeers(db, host.helia, again) },
      queryHeads: async (peer, signal) => queryHeads(host.helia.libp2p, multiaddr(peer.startsWith('/') ? peer : `/p2p/${peer}`), db.address, signal)
    },
    storage: {
      fetches,
      snapshots: snapshotStore(host.helia.datastore, db.address),
      stored: async (hash) => isStored(host.helia, hash),
      queryIndexes: queryIndexesOf(host, db)
    },
    lifecycle: {
      onClose: lifecycle.onClose,
      stop: () => { stopping.abort() }
    },
    resync: host.resync
  }
  if (type === 'keyvalue') return new KeyValueDatabase(parts)
  if (type === 'documents') return new DocumentsDatabase(parts, meta.indexBy ?? DEFAULT_INDEX_BY)
  return new EventLogDatabase(parts)
}

/**
 * Where a database's query indexes are kept: in the node's store, under the database's
 * manifest CID, or in memory for a private database, so that no plaintext of it is written
 * to disk (see docs/queries.md).
 */
function queryIndexesOf (host: ReplicaHost, db: Database): IndexLevel {
  const options = { keyEncoding: 'view', valueEncoding: 'view' } as const
  if (isDidAccessController(db.access) && db.access.privacy !== undefined) return new MemoryLevel<Uint8Array, Uint8Array>(options)
  return host.queryStore.sublevel<Uint8Array, Uint8Array>(db.address.split('/').at(-1) ?? db.address, options) as unknown as IndexLevel
}

/** Whether the block `hash` names is stored on this node; never asks the network. */
export async function isStored (helia: Pick<Helia, 'blockstore'>, hash: string): Promise<boolean> {
  let cid: CID
  try {
    cid = CID.parse(hash, base58btc)
  } catch {
    return false
  }
  return helia.blockstore.has(cid)
}
