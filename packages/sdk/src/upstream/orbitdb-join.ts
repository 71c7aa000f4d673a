/**
 * Works around how OrbitDB 4.0.0 joins a remote entry.
 *
 * - `@orbitdb/core/src/database.js` 144-160 (`applyOperation`): an entry that
 *   `log.joinEntry` refuses is logged with `console.error` and dropped, so nobody can
 *   report it or guard the join. `wrapJoinEntry` puts our own step around every join.
 * - `src/sync.js` 179, 212, 237: a failed heads exchange emits 'error' on a Node
 *   EventEmitter, which throws when nobody listens (the replication listens).
 * - `src/oplog/log.js` 249 and 259: refusals are plain `Error`s told apart only by their
 *   text; `rejectionOf` maps them to the stable reasons of `entry:rejected`.
 *
 * Delete once OrbitDB reports refused joins as events with a reason.
 */
import { EntryRejectedError, type RejectionReason } from '@didbase/access'
import type { Log, LogEntry } from '@orbitdb/core'

export type JoinEntry = (entry: LogEntry) => Promise<boolean>

/** Route every `log.joinEntry` (OrbitDB's sync calls it for each remote entry) through `around`. */
export function wrapJoinEntry (log: Log, around: (entry: LogEntry, join: JoinEntry) => Promise<boolean>): void {
  const join: JoinEntry = log.joinEntry.bind(log)
  log.joinEntry = async (entry: LogEntry) => around(entry, join)
}

export interface Rejection {
  hash?: string
  did?: string
  reason: RejectionReason
  message: string
}

/** Why a join failed, in the words every replica uses. */
export function rejectionOf (err: unknown): Rejection {
  if (err instanceof EntryRejectedError) return { hash: err.hash, did: err.did, reason: err.reason, message: err.message }
  const message = err instanceof Error ? err.message : String(err)
  if (message.includes("doesn't match the log's id")) return { reason: 'wrong-database', message }
  if (message.includes('Could not validate signature')) return { reason: 'bad-signature', message }
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) return { reason: 'unavailable', message }
  return { reason: 'malformed-entry', message }
}
