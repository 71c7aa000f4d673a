/**
 * @packageDocumentation
 *
 * DID-authenticated peer-to-peer databases: OrbitDB key-value, document and event-log
 * databases on Helia and libp2p, where every write is signed by a DID and checked by
 * every replica against the database's policy.
 *
 * @example
 * ```ts
 * import { createDidbase } from '@didbase/sdk'
 *
 * const didbase = await createDidbase()
 * const log = await didbase.eventLog<string>('journal')
 * await log.add('hello')
 * for await (const { value, writer } of log.entries()) console.log(writer, value)
 * // The node listens until it is closed (on Node.js 24, `await using` closes it for you).
 * await didbase.close()
 * ```
 */
/// <reference types="@didbase/access/orbitdb-core" preserve="true" />
// First: on a Node.js too old for the network stack, fail with a message that says so.
import './runtime/check.js'
export {
  type Did,
  type DidIdentity,
  type DidKeyIdentity,
  createDeviceIdentity,
  createDidKeyIdentity,
  delegateDevice,
  type DelegatedIdentity,
  delegatedIdentity,
  type DeviceDelegationOptions,
  type DidSessionLike,
  type Eip1193Provider,
  fromDidSession,
  InvalidDelegationError,
  forgetSession,
  keepSession,
  loadSession,
  SessionExpiredError,
  walletSession,
  type WalletSessionOptions,
  decodeInvite,
  EntryRejectedError,
  type InviteClaims,
  MAX_BATCH_BYTES,
  MAX_BATCH_OPS,
  type RejectionReason,
  type Role
} from '@didbase/access'
export type { AbortOptions } from './abort.js'
export type { BatchFill, DocumentsBatch, EventLogBatch, KeyValueBatch } from './databases/batch.js'
export type { InviteOptions, Roles, Signed } from './databases/database.js'
export {
  type AnyDatabase,
  type CreateOptions,
  createDidbase,
  type Didbase,
  type DidbaseInit,
  type ResyncOptions,
  type DocumentsOptions,
  type OpenOptions
} from './didbase.js'
export { type DocumentRecord, DocumentsDatabase } from './databases/documents.js'
export * from './errors.js'
export { defineSchema, type Infer, s, Schema, SchemaValidationError, schemaFromDSL } from '@didbase/schemas'
export { EventLogDatabase, type EventLogReadOptions } from './databases/eventlog.js'
export type { SyncProgress } from './sync/catch-up.js'
export type { DatabaseEvents, RejectedDetail, UnreadableDetail, UpdateDetail } from './events.js'
export { type KeyValueRecord, KeyValueDatabase } from './databases/keyvalue.js'
export type { IndexFields, KeyedRecord } from './databases/records.js'
export type { Condition, Field, FieldType, Operators, Page, Query, QueryRecord, Scalar, SortKey, Where } from './queries/query.js'
export type { Explanation } from './queries/planner.js'
export type { IndexProgress } from './queries/indexes.js'
export { LiveQuery, type WatchOptions } from './queries/live.js'
export type { DatabaseType } from './databases/manifest.js'
export type { IceServer } from './node/helia-node.js'
export { MIN_NODE_MAJOR, TESTED_NODE_MAJORS, UnsupportedRuntimeError } from './runtime/node-version.js'
