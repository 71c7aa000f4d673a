/**
 * What the three database handles share: the public surface over one replica
 * (../replica/replica.ts), which holds the database's parts and writes its entries.
 */
import type { Role } from '@didbase/access'
import { type DataPayload, dataPayloadsOf } from '@didbase/access/internal'
import type { Schema } from '@didbase/schemas'
import type { Database, LogEntry } from '@orbitdb/core'
import { TypedEventEmitter } from 'main-event'
import { type AbortOptions, abortable } from '../abort.js'
import { InvariantError } from '../errors.js'
import type { DatabaseEvents, UnreadableDetail } from '../events.js'
import type { InviteOptions, Roles } from '../replica/access-operations.js'
import type { ReplicaComponents } from '../replica/components.js'
import { Replica } from '../replica/replica.js'
import type { BuildOperations } from '../replica/writer.js'
import type { DatabaseType } from './manifest.js'
import type { Vault } from './privacy.js'

export type { InviteOptions, Roles } from '../replica/access-operations.js'

/** A record with the DID that wrote it. */
export interface Signed<T> {
  value: T
  /** Hash (CID) of the oplog entry that holds the value. */
  hash: string
  /** DID whose key signed the entry. */
  writer: string
  /** Event logs: set when the entry holds several events (a batch, or adds committed together): this one's place in it. */
  index?: number
  /**
   * When the writer wrote it: its signed time `at`, in ms since 1970, as the writer's clock
   * said. Missing on entries written before didbase dated every write, on a private
   * database's writes signed with a DID's own key, and on raw OrbitDB entries. Claimed by the
   * writer and checked against no clock: good for showing and sorting, not for deciding who
   * wrote first (the log's order does that; see docs/writes.md).
   */
  time?: number
}

/** The time an accepted entry's operation carries: its own `at`, or its batch's. */
export function timeOf (payload: unknown, op: DataPayload): number | undefined {
  const at = op.at ?? (payload as { at?: unknown } | null)?.at
  return typeof at === 'number' ? at : undefined
}

/** What a handle is made from: its replica's parts. */
export type HandleContext = ReplicaComponents

export abstract class DatabaseHandle extends TypedEventEmitter<DatabaseEvents> implements AsyncDisposable {
  abstract readonly type: DatabaseType
  /** The database address: share it so others can open the same database. */
  readonly address: string
  readonly name: string
  /** This handle's database, assembled with everything it needs. */
  protected readonly replica: Replica

  constructor (ctx: HandleContext) {
    super()
    this.address = ctx.db.address
    this.name = ctx.db.name
    this.replica = new Replica(ctx, this, { add: (entry) => { this.indexEntry(entry) }, save: async () => this.beforeClose() })
  }

  protected get db (): Database {
    return this.replica.db
  }

  /** Set for a private database: seals what this node writes and opens what it reads. */
  protected get vault (): Vault | undefined {
    return this.replica.vault
  }

  get #policy (): Replica['policy'] {
    return this.replica.policy
  }

  get #access (): Replica['access'] {
    return this.replica.access
  }

  /** `'acl'` when admins can change who writes; `'writers'` for a fixed set. */
  get policy (): 'acl' | 'writers' {
    return this.#policy.mutable ? 'acl' : 'writers'
  }

  /** Admins and writers (and, when private, readers) the database was created with: part of its address, never changed. */
  get genesis (): Roles {
    const { admins, writers } = this.#policy.genesis
    const readers = this.#policy.privacy?.readers
    return { admins: [...admins].sort(), writers: [...writers].sort(), ...(readers !== undefined ? { readers: [...readers] } : {}) }
  }

  /** Whether values and record keys are sealed, so that only members read them. */
  get private (): boolean {
    return this.#policy.privacy !== undefined
  }

  /** Whether records may be changed only by their creator (or an admin). */
  get ownership (): boolean {
    return this.#policy.ownership
  }

  /** The schema the database was created with, if any (part of its address). */
  get schema (): Schema | undefined {
    return this.#policy.schema
  }

  /** The schema new writes from this replica must match: the latest `setSchema`, or `schema`. */
  async currentSchema (options?: AbortOptions): Promise<Schema | undefined> {
    return abortable(this.#access.currentSchema(), options)
  }

  /**
   * Move the database to another schema (founding admins of an ACL database only). Entries
   * that follow this one must match it; entries written before it keep the shape they had.
   * Resolves to the entry hash. See docs/schemas.md for upgrading old values on read.
   */
  async setSchema (schema: Schema, options?: AbortOptions): Promise<string> {
    return this.#access.setSchema(schema, options)
  }

  /** Admins and writers in force for the next write from this replica. */
  async roles (options?: AbortOptions): Promise<Roles> {
    return abortable(this.#access.roles(), options)
  }

  /** Whether `did` (default: this node's DID) may write new records here now. */
  async canWrite (did?: string, options?: AbortOptions): Promise<boolean> {
    return abortable(this.#access.canWrite(did), options)
  }

  /** Whether `did` (default: this node's DID) is an admin here now. */
  async isAdmin (did?: string, options?: AbortOptions): Promise<boolean> {
    return abortable(this.#access.isAdmin(did), options)
  }

  /**
   * Give `did` a role. Admins only; `did` may be `'*'` for the writer role. `reader` is for
   * private databases, where a grant also hands `did` the current keys. Resolves to the entry hash.
   */
  async grant (role: Role, did: string, options?: AbortOptions): Promise<string> {
    return this.#access.change('grant', role, did, options)
  }

  /**
   * Take a role from `did`. Entries `did` wrote before (and concurrently with) the
   * revocation stay valid; entries that link to it are rejected. See docs/access.md. In a
   * private database it also starts a new key epoch, so `did` cannot read what follows it.
   */
  async revoke (role: Role, did: string, options?: AbortOptions): Promise<string> {
    return this.#access.change('revoke', role, did, options)
  }

  /**
   * Issue an invite for `did` (a did-jwt JWS signed by this node's DID). Nothing is written;
   * give the token to the invitee, who calls `redeem` (or `didbase.accept`).
   */
  async invite (did: string, options: InviteOptions & AbortOptions = {}): Promise<string> {
    const { signal, ...invite } = options
    return abortable(this.#access.invite(did, invite), { signal })
  }

  /** Withdraw an invite (token or id) before it is redeemed. Admins only. */
  async cancelInvite (tokenOrId: string, options?: AbortOptions): Promise<string> {
    return this.#access.cancelInvite(tokenOrId, options)
  }

  /**
   * Start a new key epoch (private databases with an ACL, admins only): what is written on
   * top of it is sealed under a key shared with the current members alone. Revocations do
   * this themselves; call it after a device or key may have leaked. Resolves to the entry hash.
   */
  async rotateKey (options?: AbortOptions): Promise<string> {
    return this.#access.rotateKey(options)
  }

  /** Private databases: members that lack the key of a current epoch, by epoch (an admin shares them on its own). */
  async membersLackingKeys (options?: AbortOptions): Promise<Map<string, string[]>> {
    return abortable(this.#access.membersLackingKeys(), options)
  }

  /**
   * Take back a key this node's user delegated to (a lost phone, an old session): entries it
   * signs whose causal past holds this one are refused by every replica; earlier ones stay.
   * Signed by this node for its user. Resolves to the entry hash.
   */
  async revokeDevice (did: string, options?: AbortOptions): Promise<string> {
    return this.#access.revokeDevice(did, options)
  }

  /** Redeem an invite addressed to this node's DID; afterwards this node may write. */
  async redeem (token: string, options?: AbortOptions): Promise<string> {
    return this.#access.redeem(token, options)
  }

  /** Hashes of the latest entries this replica has: equal heads mean equal logs. */
  async heads (): Promise<string[]> {
    return this.replica.heads()
  }

  /**
   * Peers that have exchanged heads with this replica since it opened and are still
   * subscribed: what they had is applied here (or refused). Each exchange also fires `peer:join`.
   */
  get syncedPeers (): string[] {
    return this.replica.replication.syncedPeers
  }

  /**
   * Resolve with a peer's id once it has exchanged heads with this replica and what it sent
   * is applied: right away if one already has. `peerId` waits for that peer only. Rejects
   * with the signal's reason when `signal` aborts.
   */
  async whenSynced (options: { peerId?: string, signal?: AbortSignal } = {}): Promise<string> {
    return this.replica.replication.whenSynced(options)
  }

  /**
   * Resolve once the peer `peer` (its id, or a multiaddr ending in its id) holds the entry `hash` of this database (a write of this
   * replica, say): its heads are that entry, or entries that link to it. The peer is asked
   * directly, every 200 ms, until then. Throws `NotReplicatedError` when the peer does not
   * have the database open (it would never get the entry: ask it to keep the database with
   * `didbase.pin`), and the signal's reason when `signal` aborts.
   *
   * @example
   * ```ts
   * const hash = await notes.put('n1', 'hello')
   * await notes.whenPeerHolds(peerId, hash, { signal: AbortSignal.timeout(15_000) })
   * ```
   */
  async whenPeerHolds (peer: string, hash: string, options: AbortOptions = {}): Promise<void> {
    await this.replica.whenPeerHolds(peer, hash, options.signal ?? new AbortController().signal)
  }

  /**
   * The did:key that signed the entry `hash`: its `writer` itself, or the session or device
   * key the writer delegated to. Undefined when this replica does not hold the entry.
   */
  async signerOf (hash: string): Promise<string | undefined> {
    const entry = await this.db.log.get(hash)
    return entry === undefined ? undefined : `did:key:${entry.key}`
  }

  /** Number of entries in the local copy of the log. */
  async size (): Promise<number> {
    let n = 0
    for await (const _ of this.db.log.iterator()) n++
    return n
  }

  /**
   * A data write (`ops` from `build`, which seals them for the heads it is given in a
   * private database): checked alone, then committed with the writes issued around it
   * (commit-queue.ts). `atomic` keeps several operations together in one entry, all or nothing.
   */
  protected async commit (build: BuildOperations, options: AbortOptions = {}, atomic = false): Promise<string> {
    return this.replica.writer.commit(build, options, atomic)
  }

  /** An entry (local or joined) is in the log: index it before anyone hears of it. */
  protected indexEntry (_entry: LogEntry): void {}

  /** Closing: save what should outlive this run (an index snapshot). */
  protected async beforeClose (): Promise<void> {}

  /** The value operation `index` (0 unless written in a batch) of the entry `hash` of this log carries. */
  protected async valueAt<V> (hash: string, index = 0): Promise<V> {
    return (await this.operationAt<V>(hash, index)).value
  }

  /** The value and time of operation `index` of the entry `hash`, which this replica holds. */
  protected async operationAt<V> (hash: string, index = 0): Promise<{ value: V, time: number | undefined }> {
    const entry = await this.db.log.get(hash)
    if (entry === undefined) throw new InvariantError(`entry ${hash} is indexed but not in this replica's log`)
    const op = dataPayloadsOf(entry.payload)[index]
    if (op === undefined) throw new InvariantError(`entry ${hash} carries no operation ${index}`)
    return { value: op.value as V, time: timeOf(entry.payload, op) }
  }

  /** Tell listeners a member cannot read an accepted entry; the same on every member. */
  protected reportUnreadable (hash: string, did: string, reason: UnreadableDetail['reason'], message: string): void {
    this.safeDispatchEvent('entry:unreadable', { detail: { hash, did, reason, message } })
  }

  protected async writerOf (hash: string): Promise<string> {
    const entry = await this.db.log.get(hash)
    return entry?.identity ?? ''
  }

  /**
   * Close this handle and its database. Idempotent. An abort stops the waiting, not the
   * closing, which goes on in the background.
   */
  async close (options?: AbortOptions): Promise<void> {
    return abortable(this.replica.close(), options)
  }

  async [Symbol.asyncDispose] (): Promise<void> {
    await this.close()
  }
}
