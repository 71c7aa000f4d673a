/**
 * What the three database handles share. The handle is the public surface; it delegates
 * access operations (access-operations.ts), the checks before a write (write-gate.ts) and
 * replication (../sync/replication.ts).
 */
import { type AccessPolicy, aclPayload, batchPayload, type DataPayload, dataPayloadsOf, type DelegatedIdentity, type DidIdentity, EntryRejectedError, isDelegated, MAX_BATCH_BYTES, MAX_BATCH_OPS, type Role } from '@didbase/access'
import type { Schema } from '@didbase/schemas'
import type { Database, LogEntry } from '@orbitdb/core'
import { TypedEventEmitter } from 'main-event'
import { type AbortOptions, abortable } from '../abort.js'
import { InvalidValueError, InvariantError } from '../errors.js'
import type { TopicValidators } from '../sync/peer-penalties.js'
import type { DatabaseEvents, UnreadableDetail } from '../events.js'
import type { SnapshotStore } from '../storage/index-snapshot.js'
import type { JoinFetches } from '../storage/entry-storage.js'
import { Replication } from '../sync/replication.js'
import { whenPeerHolds } from '../sync/peer-holds.js'
import { AccessOperations, type InviteOptions, type Roles } from './access-operations.js'
import { CommitQueue } from './commit-queue.js'
import type { DatabaseType } from './manifest.js'
import { KeyCourier } from './key-courier.js'
import { boundAppend, linkedHeads } from '../upstream/bounded-append.js'
import { Vault } from './privacy.js'
import { WriteGate } from './write-gate.js'
import { debugLog } from '../log.js'

const log = debugLog('database')

export type { InviteOptions, Roles } from './access-operations.js'

/** A record with the DID that wrote it. */
export interface Signed<T> {
  value: T
  /** Hash (CID) of the oplog entry that holds the value. */
  hash: string
  /** DID whose key signed the entry. */
  writer: string
  /** Event logs: set when the entry holds several events (a batch, or adds committed together): this one's place in it. */
  index?: number
}

export interface HandleContext {
  db: Database
  policy: AccessPolicy
  /** Where this database's entries are judged before OrbitDB applies them (topic-validator.ts). */
  topicValidators: TopicValidators
  identity: DidIdentity
  /** Told once, when the handle starts closing, with the promise of its close. */
  onClose: (closing: Promise<void>) => void
  /** Abort block fetches in flight, so closing never waits for a block no peer has. */
  stop: () => void
  /** Exchange heads with subscribers this replica has not exchanged with; with `again`, with all. */
  resync: (again?: boolean) => void
  /** When heads are exchanged again (`DidbaseInit.resync`). */
  resyncOptions?: { intervalMs?: number, retry?: boolean }
  /** The block fetches of OrbitDB's join in progress (entry-storage.ts). */
  fetches: JoinFetches
  /** Where an index kept beside the log is saved between runs (index-snapshot.ts). */
  snapshots?: SnapshotStore
  /** The heads `peer` (a peer id, or a multiaddr to dial) holds of this database, or undefined when it does not have it open (heads-query.ts). */
  queryHeads?: (peer: string, signal: AbortSignal) => Promise<string[] | undefined>
  /** Whether the block of entry `hash` is stored here (asks no peer, and does not wait for the log index to load). */
  stored: (hash: string) => Promise<boolean>
}

export abstract class DatabaseHandle extends TypedEventEmitter<DatabaseEvents> implements AsyncDisposable {
  abstract readonly type: DatabaseType
  /** The database address: share it so others can open the same database. */
  readonly address: string
  readonly name: string
  protected readonly db: Database
  /** Set for a private database: seals what this node writes and opens what it reads. */
  protected readonly vault: Vault | undefined
  readonly #policy: AccessPolicy
  readonly #onClose: (closing: Promise<void>) => void
  readonly #stop: () => void
  readonly #gate: WriteGate
  readonly #queue: CommitQueue
  readonly #access: AccessOperations
  readonly #replication: Replication
  readonly #courier: KeyCourier | undefined
  /** Set when this node signs with a delegated key: its delegation is registered once per database. */
  readonly #delegated: DelegatedIdentity | undefined
  #session: Promise<void> | undefined
  #closing: Promise<void> | undefined

  readonly #queryHeads: HandleContext['queryHeads']

  constructor (ctx: HandleContext) {
    super()
    this.#queryHeads = ctx.queryHeads
    this.db = ctx.db
    this.address = ctx.db.address
    this.name = ctx.db.name
    this.#policy = ctx.policy
    this.#policy.bind(this.address)
    boundAppend(ctx.db.log)
    this.vault = ctx.policy.privacy === undefined ? undefined : new Vault(ctx.policy.privacy, ctx.identity, this.address, ctx.policy, async () => this.#linkedHeads())
    this.#onClose = ctx.onClose
    this.#stop = ctx.stop
    const heads = async (): Promise<string[]> => this.#linkedHeads()
    this.#delegated = isDelegated(ctx.identity) ? ctx.identity : undefined
    const signer = this.#delegated?.signer.did ?? ctx.identity.did
    this.#gate = new WriteGate({ did: ctx.identity.did, signer, address: this.address, policy: ctx.policy, heads, closed: () => this.#closing !== undefined })
    this.#queue = new CommitQueue({
      append: async (payload) => this.db.addOperation(this.#dated(payload)),
      refused: (err) => err instanceof EntryRejectedError
    })
    this.#access = new AccessOperations({
      identity: ctx.identity,
      address: this.address,
      policy: ctx.policy,
      heads,
      append: async (build, options) => this.writeBuilt(build, options),
      keyring: this.vault?.keyring,
      assertOpen: () => { this.#gate.assertOpen() }
    })
    this.#replication = new Replication({
      db: ctx.db,
      policy: ctx.policy,
      topicValidators: ctx.topicValidators,
      resync: ctx.resync,
      ...ctx.resyncOptions,
      fetches: ctx.fetches,
      events: this,
      indexEntry: (entry) => {
        this.indexEntry(entry)
        this.#courier?.seen(entry)
      }
    })
    const access = this.#access
    this.#courier = this.vault === undefined || !ctx.policy.mutable
      ? undefined
      : new KeyCourier({ isAdmin: async () => access.isAdmin(), shareMissing: async () => access.shareMissingKeys(), rotateForRevoked: async () => access.rotateForRevokedDevices(), closed: () => this.#closing !== undefined })
    // What arrived while this replica was away may have left a member without a key.
    this.#courier?.poke()
    // A member's device is handed a private database's keys once its delegation is registered there.
    if (this.vault !== undefined && this.#delegated !== undefined) this.#registerOnceMember(this.#delegated)
  }

  /**
   * Register this device's delegation as soon as its user holds a role here: now, or when a
   * grant arrives (each update is a chance), so that an admin's node hands it the keys.
   */
  #registerOnceMember (delegated: DelegatedIdentity): void {
    let trying = false
    let again = false
    const attempt = (): void => {
      if (trying) {
        again = true
        return
      }
      trying = true
      this.#registerSession(delegated).then(() => {
        this.removeEventListener('update', attempt)
      }, (err) => {
        log('this device is not registered in %s yet: %e', this.address, err)
      }).finally(() => {
        trying = false
        if (again && this.#closing === undefined) {
          again = false
          attempt()
        }
      })
    }
    this.addEventListener('update', attempt)
    attempt()
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

  /** The heads a new entry links to, sorted: all of them unless there are more than a write may link (bounded-append.ts). */
  async #linkedHeads (): Promise<string[]> {
    return linkedHeads(await this.db.log.heads()).map((e) => e.hash).sort()
  }

  /** Hashes of the latest entries this replica has: equal heads mean equal logs. */
  async heads (): Promise<string[]> {
    return (await this.db.log.heads()).map((e) => e.hash).sort()
  }

  /**
   * Peers that have exchanged heads with this replica since it opened and are still
   * subscribed: what they had is applied here (or refused). Each exchange also fires `peer:join`.
   */
  get syncedPeers (): string[] {
    return this.#replication.syncedPeers
  }

  /**
   * Resolve with a peer's id once it has exchanged heads with this replica and what it sent
   * is applied: right away if one already has. `peerId` waits for that peer only. Rejects
   * with the signal's reason when `signal` aborts.
   */
  async whenSynced (options: { peerId?: string, signal?: AbortSignal } = {}): Promise<string> {
    return this.#replication.whenSynced(options)
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
    const query = this.#queryHeads
    if (query === undefined) throw new InvariantError('this handle cannot ask peers for heads')
    await whenPeerHolds({ query: async (signal) => query(peer, signal), get: async (h) => this.db.log.get(h), peer, address: this.address }, hash, options.signal ?? new AbortController().signal)
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
   * Run a local write after the checks that must pass before anything is signed: the
   * value is storable and the policy allows `payload` (exactly what OrbitDB will append).
   * An abort before the entry is signed fails the write; once signed, it completes.
   */
  protected async write (payload: unknown, op: () => Promise<string>, options?: AbortOptions): Promise<string> {
    const delegated = this.#delegated
    if (delegated === undefined) return this.#gate.write(payload, op, options)
    if (bringsDelegation(payload)) {
      // A redeem that brings the key's delegation registers the key itself.
      const hash = await this.#gate.write(payload, op, options)
      this.#session ??= Promise.resolve()
      return hash
    }
    await this.#registerSession(delegated, options)
    // A delegated entry carries its time, which replicas judge its delegation's expiry against.
    const dated = this.#dated(payload)
    return this.#gate.write(dated, async () => this.db.addOperation(dated), options)
  }

  /** A delegated entry carries its time, which replicas judge its delegation's expiry against; access operations carry their own. */
  #dated<P> (payload: P): P {
    if (this.#delegated === undefined || (payload as { op?: unknown }).op === 'ACL') return payload
    return { ...payload, at: Date.now() }
  }

  /**
   * A data write (`ops` from `build`, which seals them for the heads it is given in a
   * private database): checked alone, then committed with the writes issued around it
   * (commit-queue.ts). `atomic` keeps several operations together in one entry, all or nothing.
   */
  protected async commit (build: (heads: readonly string[]) => Promise<DataPayload[]>, options: AbortOptions = {}, atomic = false): Promise<string> {
    const delegated = this.#delegated
    this.#gate.assertOpen()
    return this.#queue.submit(async () => {
      if (delegated !== undefined) await this.#registerSession(delegated, options)
      // Only what is sealed depends on the heads; the gate reads them itself when the policy needs them.
      const heads = this.vault !== undefined || this.#policy.mutable || this.#policy.ownership || delegated !== undefined ? await this.#linkedHeads() : []
      const ops = await build(heads)
      if (ops.length > MAX_BATCH_OPS) throw new InvalidValueError(`a batch carries at most ${MAX_BATCH_OPS} operations; this one has ${ops.length}`)
      let bytes = 0
      for (const [i, op] of ops.entries()) {
        try {
          bytes += await this.#gate.check(this.#dated(op), options, heads)
        } catch (err) {
          if (atomic && ops.length > 1 && err instanceof Error) err.message = `operation ${i} of the batch: ${err.message}`
          throw err
        }
      }
      if (bytes > MAX_BATCH_BYTES - 64) throw new InvalidValueError(`a batch carries at most ${MAX_BATCH_BYTES} bytes of operations; this one has ${bytes}`)
      const alone = async (): Promise<string> => this.writeBuilt(async (next) => {
        const rebuilt = await build(next)
        return rebuilt.length === 1 ? rebuilt[0] : batchPayload(rebuilt)
      }, options)
      return { ops, bytes, alone }
    }, { ...options, atomic })
  }

  /** A delegated key's first write to this database registers its delegation (a `session` entry), once. */
  async #registerSession (delegated: DelegatedIdentity, options?: AbortOptions): Promise<void> {
    this.#session ??= (async () => {
      const state = await this.#policy.state(await this.#linkedHeads())
      const held = state.sessions.get(`${delegated.did} ${delegated.signer.did}`)
      if (held !== undefined && held.expiresAt >= delegated.expiresAt) return
      const session = aclPayload({ action: 'session', proof: [...delegated.proof], at: Date.now() })
      await this.#gate.write(session, async () => this.db.addOperation(session), options)
    })()
    try {
      await this.#session
    } catch (err) {
      this.#session = undefined
      throw err
    }
  }

  /**
   * Write a payload made for the heads it will link to (sealed under their epochs, say).
   * Built again when the heads moved before it was appended and the policy refused it for
   * that (a rotation arrived in between): at most three tries.
   */
  protected async writeBuilt (build: (heads: string[]) => Promise<unknown>, options?: AbortOptions): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const heads = await this.#linkedHeads()
      const payload = await build(heads)
      try {
        return await this.write(payload, async () => this.db.addOperation(payload), options)
      } catch (err) {
        const reason = (err as { reason?: string }).reason
        const retry = attempt < 3 && (reason === 'stale-key' || reason === 'invalid-operation') && (await this.#linkedHeads()).join() !== heads.join()
        if (!retry) throw err
      }
    }
  }

  /** An entry (local or joined) is in the log: index it before anyone hears of it. */
  protected indexEntry (_entry: LogEntry): void {}

  /** Closing: save what should outlive this run (an index snapshot). */
  protected async beforeClose (): Promise<void> {}

  /** The value operation `index` (0 unless written in a batch) of the entry `hash` of this log carries. */
  protected async valueAt<V> (hash: string, index = 0): Promise<V> {
    const entry = await this.db.log.get(hash)
    if (entry === undefined) throw new InvariantError(`entry ${hash} is indexed but not in this replica's log`)
    const op = dataPayloadsOf(entry.payload)[index]
    if (op === undefined) throw new InvariantError(`entry ${hash} carries no operation ${index}`)
    return op.value as V
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
    if (this.#closing === undefined) {
      this.#closing = this.#closeNow()
      this.#onClose(this.#closing)
    }
    return abortable(this.#closing, options)
  }

  async #closeNow (): Promise<void> {
    // Writes already issued are committed (or refused) before the log closes.
    await this.#queue.idle()
    this.#replication.stop()
    await this.#courier?.idle()
    // Before the fetches stop: stopping them fails local reads too. A snapshot that cannot
    // be saved only makes the next open slower.
    await this.beforeClose().catch((err) => { log.error('could not save what %s keeps between runs: %e', this.address, err) })
    this.#stop()
    this.#policy.stop()
    await this.db.close()
  }

  async [Symbol.asyncDispose] (): Promise<void> {
    await this.close()
  }
}

/** An access payload that carries its signer's delegation (a delegated key's redeem). */
function bringsDelegation (payload: unknown): boolean {
  const p = payload as { op?: unknown, value?: { proof?: unknown } } | null
  return p?.op === 'ACL' && p.value?.proof !== undefined
}
