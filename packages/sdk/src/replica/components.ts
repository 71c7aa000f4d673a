/**
 * What a replica is assembled from: the OrbitDB database and its policy, and the parts of
 * the node it runs on. Typed parts, not loose callbacks, so that an editor follows each one
 * to where it is made (didbase.ts) and a unit test stubs it.
 */
import type { DidIdentity } from '@didbase/access'
import type { AccessPolicy } from '@didbase/access/internal'
import type { Database, LogEntry } from '@orbitdb/core'
import type { IndexLevel } from '../queries/indexes.js'
import type { SnapshotStore } from '../storage/index-snapshot.js'
import type { JoinFetches } from '../storage/entry-storage.js'
import type { TopicValidators } from '../sync/peer-penalties.js'

/** What the node does for a replica on the network. */
export interface ReplicaNetwork {
  /** Where this database's entries are judged before OrbitDB applies them (topic-validator.ts). */
  topicValidators: TopicValidators
  /** Exchange heads with subscribers this replica has not exchanged with; with `again`, with all. */
  resync: (again?: boolean) => void
  /** The heads `peer` (a peer id, or a multiaddr to dial) holds of this database, or undefined when it does not have it open (heads-query.ts). */
  queryHeads?: (peer: string, signal: AbortSignal) => Promise<string[] | undefined>
}

/** What the node stores for a replica beside its log. */
export interface ReplicaStorage {
  /** The block fetches of OrbitDB's join in progress (entry-storage.ts). */
  fetches: JoinFetches
  /** Where an index kept beside the log is saved between runs (index-snapshot.ts). */
  snapshots?: SnapshotStore
  /** Whether the block of entry `hash` is stored here (asks no peer, and does not wait for the log index to load). */
  stored: (hash: string) => Promise<boolean>
  /** Where this database's query indexes are kept: on disk, or in memory for a private database (queries/indexes.ts). */
  queryIndexes?: IndexLevel
}

/** How the node keeps track of a replica's life. */
export interface ReplicaLifecycle {
  /** Told once, when the replica starts closing, with the promise of its close. */
  onClose: (closing: Promise<void>) => void
  /** Abort block fetches in flight, so closing never waits for a block no peer has. */
  stop: () => void
}

export interface ReplicaComponents {
  db: Database
  policy: AccessPolicy
  identity: DidIdentity
  network: ReplicaNetwork
  storage: ReplicaStorage
  lifecycle: ReplicaLifecycle
  /** When heads are exchanged again (`DidbaseInit.resync`). */
  resync?: { intervalMs?: number, retry?: boolean }
}

/** An index a database type keeps beside the log (record-index.ts): told of every entry before anyone hears of it. */
export interface EntryIndex {
  /** An entry (local or joined) is in the log. */
  add: (entry: LogEntry) => void
  /** Closing: save what should outlive this run. */
  save: () => Promise<void>
}
