import type { RejectionReason } from '@didbase/access'
import type { SyncProgress } from './sync/catch-up.js'
import type { IndexProgress } from './queries/indexes.js'

/** A write was applied, locally or from a replica. */
export interface UpdateDetail {
  /** DID of the writer. */
  did: string
  /** Hash (CID) of the oplog entry. */
  hash: string
  /** Set when the entry holds several operations (a batch): which one this is; they are announced in order. */
  index?: number
  /** Set with `index`: how many operations the entry holds. */
  operations?: number
}

/** A replica refused an entry. It was not applied and nothing that links to it will be. */
export interface RejectedDetail {
  hash: string
  /** The DID the entry claims as writer (not trusted: it was rejected). */
  did: string
  reason: RejectionReason
  message: string
}

/** A member could not read an entry of a private database; every member sees the same. */
export interface UnreadableDetail {
  hash: string
  /** The DID that signed the entry. */
  did: string
  /**
   * `no-key`: sealed under an epoch whose key this member does not hold (it was revoked
   * before the entry was written, or its share has not arrived yet); `undecryptable`: sealed
   * under another key, moved from another record, or changed; `schema-mismatch`: the value
   * does not fit the schema.
   */
  reason: 'undecryptable' | 'no-key' | 'schema-mismatch'
  message: string
}

export interface DatabaseEvents {
  update: CustomEvent<UpdateDetail>
  'entry:rejected': CustomEvent<RejectedDetail>
  /** Private databases: an accepted entry this member cannot read is hidden from reads and reported here. */
  'entry:unreadable': CustomEvent<UnreadableDetail>
  /** A peer exchanged heads with this replica, and what it sent has been applied. */
  'peer:join': CustomEvent<{ peerId: string }>
  /**
   * A catch-up that lasts more than a moment reports its progress every 250 ms, then once
   * with `done: true`. Live updates of a few entries report nothing.
   */
  'sync:progress': CustomEvent<SyncProgress>
  /**
   * Building a query index for the records a replica holds (an index new to it, or one a
   * crash left behind): how many keys' rows are written, from 0 to `total`.
   */
  'index:progress': CustomEvent<IndexProgress>
  /** Replication trouble that is not about one entry (a peer timed out, a stream broke). */
  'sync:error': CustomEvent<Error>
}
