/** What the three database handles share: policy checks, events, rejection reports, close. */
import {
  type AccessPolicy,
  AccessDeniedError,
  type AclState,
  aclPayload,
  createInvite,
  decodeInvite,
  type DidIdentity,
  Did,
  EntryRejectedError,
  InvalidInviteError,
  isRole,
  notPlainData,
  type RejectionReason,
  type Role
} from '@didbase/access'
import type { Schema } from '@didbase/schemas'
import * as dagCbor from '@ipld/dag-cbor'
import type { Database, LogEntry } from '@orbitdb/core'
import { TypedEventEmitter } from 'main-event'
import type { TopicValidatorFn } from '@libp2p/gossipsub'
import type { SnapshotStore } from '../storage/index-snapshot.js'
import { CatchUp, type SyncProgress } from '../sync/catch-up.js'
import { ClosedError, InvalidValueError } from '../errors.js'
import type { DatabaseEvents } from '../events.js'
import type { DatabaseType } from './manifest.js'
import type { JoinFetches } from '../storage/entry-storage.js'
import { withoutStalling } from '../sync/stall-guard.js'
import { entryValidator } from '../sync/topic-validator.js'

/** A record with the DID that wrote it. */
export interface Signed<T> {
  value: T
  /** Hash (CID) of the oplog entry that holds the value. */
  hash: string
  /** DID whose key signed the entry. */
  writer: string
}

export interface HandleContext {
  db: Database
  policy: AccessPolicy
  /** Where this database's entries are judged before OrbitDB applies them (topic-validator.ts). */
  topicValidators: Map<string, TopicValidatorFn>
  identity: DidIdentity
  onClose: () => void
  /** Abort block fetches in flight, so closing never waits for a block no peer has. */
  stop: () => void
  /** Exchange heads with subscribers this replica has not exchanged with; with `again`, with all. */
  resync: (again?: boolean) => void
  /** The block fetches of OrbitDB's join in progress (entry-storage.ts). */
  fetches: JoinFetches
  /** Where an index kept beside the log is saved between runs (index-snapshot.ts). */
  snapshots?: SnapshotStore
}

/** Who holds which role, as seen by a new write from this replica. */
export interface Roles {
  admins: string[]
  /** Writers besides the admins (admins may always write); `['*']` when anyone may. */
  writers: string[]
}

export interface InviteOptions {
  /** Default `writer`. */
  role?: Role
  /** How long the invite stays valid, in ms. Default 7 days. */
  expiresIn?: number
  /** When it expires, in ms since the epoch (instead of `expiresIn`). */
  expiresAt?: number
  /** Not valid before, in ms since the epoch. */
  notBefore?: number
}

/** Base pause before a failed heads exchange is tried again; up to twice this, at random. */
const RETRY_EXCHANGE_MS = 250
/** How often heads are exchanged again with every peer of the database. */
const ANTI_ENTROPY_MS = 15_000

function reasonOf (err: unknown): { hash?: string, did?: string, reason: RejectionReason, message: string } {
  if (err instanceof EntryRejectedError) return { hash: err.hash, did: err.did, reason: err.reason, message: err.message }
  const message = err instanceof Error ? err.message : String(err)
  if (message.includes("doesn't match the log's id")) return { reason: 'wrong-database', message }
  if (message.includes('Could not validate signature')) return { reason: 'bad-signature', message }
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) return { reason: 'unavailable', message }
  return { reason: 'malformed-entry', message }
}

export abstract class DatabaseHandle extends TypedEventEmitter<DatabaseEvents> implements AsyncDisposable {
  abstract readonly type: DatabaseType
  /** The database address: share it so others can open the same database. */
  readonly address: string
  readonly name: string
  protected readonly db: Database
  readonly #policy: AccessPolicy
  readonly #identity: DidIdentity
  readonly #did: string
  readonly #onClose: () => void
  readonly #stop: () => void
  readonly #topicValidators: Map<string, TopicValidatorFn>
  /** Whether judging an entry means judging its causal past first (ACL or ownership). */
  readonly #walksPast: boolean
  readonly #resync: (again?: boolean) => void
  readonly #antiEntropy: NodeJS.Timeout
  readonly #fetches: JoinFetches
  #retry: NodeJS.Timeout | undefined
  #closing: Promise<void> | undefined
  readonly #exchanged = new Set<string>()
  /** The last report of a catch-up, held until OrbitDB has indexed what it joined. */
  #finalProgress: SyncProgress | undefined

  constructor (ctx: HandleContext) {
    super()
    this.db = ctx.db
    this.address = ctx.db.address
    this.name = ctx.db.name
    this.#policy = ctx.policy
    this.#identity = ctx.identity
    this.#did = ctx.identity.did
    this.#policy.bind(this.address)
    this.#onClose = ctx.onClose
    this.#stop = ctx.stop
    this.#topicValidators = ctx.topicValidators
    this.#walksPast = ctx.policy.mutable || ctx.policy.ownership
    this.#resync = ctx.resync
    // Heads are exchanged when peers meet, and a failed exchange or a join given up is
    // retried; this catches whatever still slips through (no replica forwards what it
    // learnt in an exchange), at the cost of a few heads per peer now and then.
    this.#antiEntropy = setInterval(() => { if (this.#closing === undefined) this.#resync(true) }, ANTI_ENTROPY_MS)
    // A number in browsers, where there is no process to keep alive.
    this.#antiEntropy.unref?.()
    this.#fetches = ctx.fetches
    this.#watch()
    this.#topicValidators.set(this.address, entryValidator({
      address: this.address,
      check: async (entry) => withoutStalling(entry, this.db.access.canAppend(entry), () => this.#policy.received + this.#policy.judged),
      knows: (did) => this.#policy.knows(did),
      has: async (hash) => this.db.log.has(hash),
      accepted: (entry, bytes) => { this.#fetches.arrived(entry, bytes) },
      rejected: (entry, err) => { this.#reportRejected(entry, err) }
    }))
  }

  /** `'acl'` when admins can change who writes; `'writers'` for a fixed set. */
  get policy (): 'acl' | 'writers' {
    return this.#policy.mutable ? 'acl' : 'writers'
  }

  /** Admins and writers the database was created with: part of its address, never changed. */
  get genesis (): Roles {
    const { admins, writers } = this.#policy.genesis
    return { admins: [...admins].sort(), writers: [...writers].sort() }
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
  async currentSchema (): Promise<Schema | undefined> {
    return this.#policy.schemaAt(await this.heads())
  }

  /**
   * Move the database to another schema (founding admins of an ACL database only). Entries
   * that follow this one must match it; entries written before it keep the shape they had.
   * Resolves to the entry hash. See docs/schemas.md for upgrading old values on read.
   */
  async setSchema (schema: Schema): Promise<string> {
    this.#assertOpen()
    const cid = await this.#policy.storeSchema(schema)
    return this.#append({ action: 'set-schema', schema: cid, at: Date.now() })
  }

  /** Admins and writers in force for the next write from this replica. */
  async roles (): Promise<Roles> {
    const state = await this.#state()
    return { admins: [...state.admins].sort(), writers: [...state.writers].sort() }
  }

  /** Whether `did` (default: this node's DID) may write new records here now. */
  async canWrite (did: string = this.#did): Promise<boolean> {
    const state = await this.#state()
    return state.admins.has(did) || state.writers.has('*') || state.writers.has(did)
  }

  /** Whether `did` (default: this node's DID) is an admin here now. */
  async isAdmin (did: string = this.#did): Promise<boolean> {
    return (await this.#state()).admins.has(did)
  }

  /** Give `did` a role. Admins only; `did` may be `'*'` for the writer role. Resolves to the entry hash. */
  async grant (role: Role, did: string): Promise<string> {
    return this.#access('grant', role, did)
  }

  /**
   * Take a role from `did`. Entries `did` wrote before (and concurrently with) the
   * revocation stay valid; entries that link to it are rejected. See docs/access.md.
   */
  async revoke (role: Role, did: string): Promise<string> {
    return this.#access('revoke', role, did)
  }

  /**
   * Issue an invite for `did` (a did-jwt JWS signed by this node's DID). Nothing is written;
   * give the token to the invitee, who calls `redeem` (or `didbase.accept`).
   */
  async invite (did: string, options: InviteOptions = {}): Promise<string> {
    this.#assertOpen()
    Did.parse(did)
    if (!this.#policy.mutable) throw new AccessDeniedError(this.#did, this.address, 'cannot invite: this database has a fixed set of writers', 'invalid-operation')
    if (!(await this.isAdmin())) throw new AccessDeniedError(this.#did, this.address, 'is not an admin of this database, so cannot invite', 'not-an-admin')
    if (options.role === 'admin' && !this.#policy.genesis.admins.includes(this.#did)) {
      throw new AccessDeniedError(this.#did, this.address, 'is not a founding admin, so cannot invite an admin', 'not-an-admin')
    }
    return createInvite(this.#identity, { address: this.address, audience: did, ...options })
  }

  /** Withdraw an invite (token or id) before it is redeemed. Admins only. */
  async cancelInvite (tokenOrId: string): Promise<string> {
    const id = tokenOrId.includes('.') ? decodeInvite(tokenOrId).id : tokenOrId
    return this.#append({ action: 'cancel-invite', id, at: Date.now() })
  }

  /** Redeem an invite addressed to this node's DID; afterwards this node may write. */
  async redeem (token: string): Promise<string> {
    const claims = decodeInvite(token)
    if (claims.address !== this.address) throw new InvalidInviteError(`the invite is for ${claims.address}, not ${this.address}`)
    return this.#append({ action: 'redeem', token, at: Date.now() })
  }

  async #access (action: 'grant' | 'revoke', role: Role, did: string): Promise<string> {
    if (!isRole(role)) throw new InvalidValueError(`unknown role ${JSON.stringify(role)}; use "admin" or "writer"`)
    if (!(did === '*' && role === 'writer')) Did.parse(did)
    return this.#append({ action, role, did, at: Date.now() })
  }

  async #append (acl: Parameters<typeof aclPayload>[0]): Promise<string> {
    const payload = aclPayload(acl)
    return this.write(payload, async () => this.db.addOperation(payload))
  }

  async #state (): Promise<AclState> {
    return this.#policy.state(await this.heads())
  }

  /** Hashes of the latest entries this replica has: equal heads mean equal logs. */
  async heads (): Promise<string[]> {
    return (await this.db.log.heads()).map((e) => e.hash).sort()
  }

  #assertOpen (): void {
    if (this.#closing !== undefined) throw new ClosedError(`${this.address} is closed`)
  }

  /**
   * Peers that have exchanged heads with this replica since it opened and are still
   * subscribed: what they had is applied here (or refused). Each exchange also fires `peer:join`.
   */
  get syncedPeers (): string[] {
    return [...this.#exchanged]
  }

  /**
   * Resolve with a peer's id once it has exchanged heads with this replica and what it sent
   * is applied: right away if one already has. `peerId` waits for that peer only. Rejects
   * with the signal's reason when `signal` aborts.
   */
  async whenSynced (options: { peerId?: string, signal?: AbortSignal } = {}): Promise<string> {
    const { peerId, signal } = options
    const match = (id: string): boolean => peerId === undefined || id === peerId
    const already = this.syncedPeers.find(match)
    if (already !== undefined) return already
    signal?.throwIfAborted()
    return new Promise((resolve, reject) => {
      const onJoin = (e: CustomEvent<{ peerId: string }>): void => {
        if (!match(e.detail.peerId)) return
        cleanup()
        resolve(e.detail.peerId)
      }
      const onAbort = (): void => {
        cleanup()
        reject(signal?.reason)
      }
      const cleanup = (): void => {
        this.removeEventListener('peer:join', onJoin)
        signal?.removeEventListener('abort', onAbort)
      }
      this.addEventListener('peer:join', onJoin)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Number of entries in the local copy of the log. */
  async size (): Promise<number> {
    let n = 0
    for await (const _ of this.db.log.iterator()) n++
    return n
  }

  #watch (): void {
    const { events, log } = this.db
    const report = (detail: SyncProgress): void => { this.safeDispatchEvent('sync:progress', { detail }) }
    events.on('update', (entry: LogEntry) => {
      this.indexEntry(entry)
      this.safeDispatchEvent('update', { detail: { did: entry.identity, hash: entry.hash } })
      const final = this.#finalProgress
      this.#finalProgress = undefined
      if (final !== undefined) report(final)
    })
    events.on('join', (peerId: unknown) => {
      this.#exchanged.add(String(peerId))
      this.safeDispatchEvent('peer:join', { detail: { peerId: String(peerId) } })
    })
    events.on('leave', (peerId: unknown) => { this.#exchanged.delete(String(peerId)) })
    // Without a listener, OrbitDB's sync 'error' events would throw and crash the process.
    events.on('error', (err: unknown) => {
      this.safeDispatchEvent('sync:error', { detail: err instanceof Error ? err : new Error(String(err)) })
      this.#retryExchange()
    })
    // OrbitDB logs a refused remote entry to the console and drops it; report it instead.
    const joinEntry = log.joinEntry.bind(log)
    log.joinEntry = async (entry: LogEntry) => {
      // Heads sent again (every exchange resends them) need no progress report and no guard.
      if (await log.has(entry.hash)) return joinEntry(entry)
      // A later entry waiting in the queue links to this one and will join it in its walk.
      if (this.#fetches.skip(entry)) return false
      const catchUp = new CatchUp(entry, async () => log.heads(), () => this.#policy.received, report)
      let final: SyncProgress | undefined
      try {
        const joined = await this.#joinWithoutStalling(entry, joinEntry)
        final = catchUp.finish()
        // A joined head is readable only after OrbitDB updates its index, just before 'update'.
        if (joined && final !== undefined) this.#finalProgress = final
        else if (final !== undefined) report(final)
        return joined
      } catch (err) {
        final ??= catchUp.finish()
        if (final !== undefined) report(final)
        this.#reportRejected(entry, err)
        // Entries that waited to be joined with this one are joined alone (`#joinOrphans`).
        this.#fetches.drop(entry.hash)
        return false
      }
    }
    this.#fetches.onOrphans = () => { void this.#joinOrphans() }
  }

  /**
   * Join, one by one, entries that were left to a later entry's join that will not happen
   * (it was refused, given up or let go). OrbitDB's join queue runs them in turn; each is
   * announced with 'update', as OrbitDB announces the joins it runs itself.
   */
  async #joinOrphans (): Promise<void> {
    for (const entry of this.#fetches.takeOrphans()) {
      if (this.#closing !== undefined) return
      try {
        if (await this.db.log.joinEntry(entry)) this.db.events.emit('update', entry)
      } catch {
        // Reported by the join itself (entry:rejected); it comes again with a later exchange.
      }
    }
  }

  /**
   * A heads exchange failed, and OrbitDB has forgotten the peer: try again after a short,
   * random pause, so two peers that collided do not collide again.
   */
  #retryExchange (): void {
    if (this.#retry !== undefined || this.#closing !== undefined) return
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      if (this.#closing === undefined) this.#resync()
    }, RETRY_EXCHANGE_MS + Math.random() * RETRY_EXCHANGE_MS)
    this.#retry.unref?.()
  }

  /**
   * Join a remote entry unless nothing of its past arrives for a while (stall-guard.ts).
   * With an ACL or ownership, the policy judges the entry and its past first, so OrbitDB's
   * own check is then answered from the verdict cache; OrbitDB's fetches are stopped if
   * the join itself stands still.
   */
  async #joinWithoutStalling (entry: LogEntry, join: (entry: LogEntry) => Promise<boolean>): Promise<boolean> {
    const fetches = this.#fetches
    const progress = (): number => this.#policy.received + this.#policy.judged + fetches.fetched + fetches.added
    // Given up, the entry comes again with the next exchange (anti-entropy, at the latest).
    if (this.#walksPast) await withoutStalling(entry, this.db.access.canAppend(entry), progress)
    return withoutStalling(entry, join(entry), progress, () => fetches.stop())
  }

  /** Tell listeners a remote entry was refused (OrbitDB would only log it to the console). */
  #reportRejected (entry: LogEntry | undefined, err: unknown): void {
    if (this.#closing !== undefined) return
    const r = reasonOf(err)
    const claimed = typeof entry?.identity === 'string' ? entry.identity : '(none)'
    this.safeDispatchEvent('entry:rejected', {
      detail: { hash: r.hash ?? String(entry?.hash), did: r.did ?? claimed, reason: r.reason, message: r.message }
    })
  }

  /**
   * Run a local write after the checks that must pass before anything is signed: the
   * value is storable and the policy allows `payload` (exactly what OrbitDB will append).
   */
  protected async write (payload: unknown, op: () => Promise<string>): Promise<string> {
    this.#assertOpen()
    assertEncodable(payload)
    // Only an ACL or ownership judges a write by its causal past; a fixed set of writers
    // needs no heads read per write.
    const past = this.#policy.mutable || this.#policy.ownership ? await this.heads() : []
    await this.#policy.check(this.#did, payload, past)
    try {
      return await op()
    } catch (err) {
      // The heads moved between the check and the append (a revocation arrived, say):
      // OrbitDB's own check refused the entry before storing it.
      if (err instanceof EntryRejectedError) throw new AccessDeniedError(this.#did, this.address, err.detail, err.reason)
      throw err
    }
  }

  /** An entry (local or joined) is in the log: index it before anyone hears of it. */
  protected indexEntry (_entry: LogEntry): void {}

  /** Closing: save what should outlive this run (an index snapshot). */
  protected async beforeClose (): Promise<void> {}

  /** The value the entry `hash` of this log carries. */
  protected async valueAt<V> (hash: string): Promise<V> {
    const entry = await this.db.log.get(hash)
    if (entry === undefined) throw new Error(`entry ${hash} is indexed but not in this replica's log`)
    return (entry.payload as { value: V }).value
  }

  protected async writerOf (hash: string): Promise<string> {
    const entry = await this.db.log.get(hash)
    return entry?.identity ?? ''
  }

  /** Close this handle and its database. Idempotent. */
  async close (): Promise<void> {
    this.#closing ??= (async () => {
      this.#onClose()
      clearTimeout(this.#retry)
      clearInterval(this.#antiEntropy)
      this.#topicValidators.delete(this.address)
      // Before the fetches stop: stopping them fails local reads too. A snapshot that cannot
      // be saved only makes the next open slower.
      await this.beforeClose().catch(() => {})
      this.#stop()
      this.#policy.stop()
      await this.db.close()
    })()
    return this.#closing
  }

  async [Symbol.asyncDispose] (): Promise<void> {
    await this.close()
  }
}

export function assertEncodable (value: unknown): void {
  const why = notPlainData(value)
  if (why !== undefined) throw new InvalidValueError(`value cannot be stored: ${why}`)
  try {
    dagCbor.encode(value)
  } catch (cause) {
    throw new InvalidValueError(`value cannot be stored: ${(cause as Error).message} (values must be dag-cbor: no undefined, functions, symbols or non-finite numbers)`, { cause })
  }
}

export function assertKey (key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidValueError(`${what} must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`)
  }
}
