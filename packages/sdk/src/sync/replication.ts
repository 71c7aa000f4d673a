/**
 * The replication of one open database: remote entries are judged before OrbitDB sees them
 * (the gossipsub topic validator), joined without stalling, reported when refused, and
 * heads are exchanged again after a failed exchange and every 15 s (anti-entropy).
 */
import { type AccessPolicy, dataPayloadsOf } from '@didbase/access/internal'
import type { Database, LogEntry } from '@orbitdb/core'
import { type RepeatingTask, repeatingTask } from '@libp2p/utils'
import { raceEvent } from 'race-event'
import type { TypedEventEmitter } from 'main-event'
import type { DatabaseEvents } from '../events.js'
import type { JoinFetches } from '../storage/entry-storage.js'
import { type JoinEntry, rejectionOf, wrapJoinEntry } from '../upstream/orbitdb-join.js'
import { CatchUp, type SyncProgress } from './catch-up.js'
import { withoutStalling } from './stall-guard.js'
import { entryValidator } from './topic-validator.js'
import type { TopicValidators } from './peer-penalties.js'
import type { EntryIndex } from '../replica/components.js'
import type { Verdicts } from '../replica/verdicts.js'
import { debugLog } from '../log.js'

const debug = debugLog('replication')

/** Base pause before a failed heads exchange is tried again; up to twice this, at random. */
const RETRY_EXCHANGE_MS = 250
/** How often heads are exchanged again with every peer of the database. */
const ANTI_ENTROPY_MS = 15_000

export interface ReplicationInit {
  db: Database
  policy: AccessPolicy
  /** The policy's verdict on a remote entry, reached once for every step that asks (replica/verdicts.ts). */
  verdicts: Pick<Verdicts, 'admit'>
  /** Where this database's entries are judged before OrbitDB applies them (topic-validator.ts). */
  topicValidators: TopicValidators
  /** Exchange heads with subscribers this replica has not exchanged with; with `again`, with all. */
  resync: (again?: boolean) => void
  /** How often heads are exchanged again with every peer, in ms (0: never). Default 15 000. */
  intervalMs?: number
  /** Exchange again shortly after a failed exchange. Default true. */
  retry?: boolean
  /** The block fetches of OrbitDB's join in progress (entry-storage.ts). */
  fetches: JoinFetches
  /** Where the handle's events go. */
  events: TypedEventEmitter<DatabaseEvents>
  /** Told of every entry (local or joined) in the log before anyone hears of it. */
  index: Pick<EntryIndex, 'add'>
}

export class Replication {
  readonly #db: Database
  readonly #policy: AccessPolicy
  readonly #verdicts: Pick<Verdicts, 'admit'>
  readonly #address: string
  readonly #topicValidators: TopicValidators
  readonly #resync: (again?: boolean) => void
  readonly #fetches: JoinFetches
  readonly #events: TypedEventEmitter<DatabaseEvents>
  readonly #index: Pick<EntryIndex, 'add'>
  /** Whether judging an entry means judging its causal past first (ACL or ownership). */
  readonly #walksPast: boolean
  readonly #antiEntropy: RepeatingTask | undefined
  readonly #retries: boolean
  readonly #exchanged = new Set<string>()
  #retry: ReturnType<typeof setTimeout> | undefined
  /** Exchanges failed in a row since the last one that succeeded. */
  #failedExchanges = 0
  #stopped = false
  /** The last report of a catch-up, held until OrbitDB has indexed what it joined. */
  #finalProgress: SyncProgress | undefined

  constructor (init: ReplicationInit) {
    this.#db = init.db
    this.#policy = init.policy
    this.#verdicts = init.verdicts
    this.#address = init.db.address
    this.#topicValidators = init.topicValidators
    this.#resync = init.resync
    this.#fetches = init.fetches
    this.#events = init.events
    this.#index = init.index
    this.#walksPast = init.policy.mutable || init.policy.ownership
    // Heads are exchanged when peers meet, and a failed exchange or a join given up is
    // retried; this catches whatever still slips through (no replica forwards what it
    // learnt in an exchange), at the cost of a few heads per peer now and then.
    const interval = init.intervalMs ?? ANTI_ENTROPY_MS
    this.#antiEntropy = interval > 0 ? repeatingTask(() => { this.#resync(true) }, interval) : undefined
    this.#antiEntropy?.start()
    this.#retries = init.retry ?? true
    this.#watch()
    this.#topicValidators.set(this.#address, entryValidator({
      address: this.#address,
      check: async (entry) => withoutStalling(entry, this.#verdicts.admit(entry), () => this.#policy.progress.received + this.#policy.progress.judged),
      knows: (did, signer) => this.#policy.knows(did, signer),
      invited: (entry) => this.#policy.invited(entry),
      has: async (hash) => this.#db.log.has(hash),
      accepted: (entry, bytes) => { this.#fetches.arrived(entry, bytes) },
      rejected: (entry, err) => { this.#reportRejected(entry, err) },
      penalize: (peer, points) => { this.#topicValidators.penalize?.(peer, points) }
    }))
  }

  /** Peers that have exchanged heads with this replica since it opened and are still subscribed. */
  get syncedPeers (): string[] {
    return [...this.#exchanged]
  }

  /** Resolve with a peer's id once it has exchanged heads and what it sent is applied. */
  async whenSynced (options: { peerId?: string, signal?: AbortSignal } = {}): Promise<string> {
    const { peerId, signal } = options
    const match = (id: string): boolean => peerId === undefined || id === peerId
    const already = this.syncedPeers.find(match)
    if (already !== undefined) return already
    signal?.throwIfAborted()
    try {
      const joined = await raceEvent<CustomEvent<{ peerId: string }>>(this.#events, 'peer:join', signal, { filter: (e) => match(e.detail.peerId) })
      return joined.detail.peerId
    } catch (err) {
      // The caller's reason (a timeout, say), as an aborted wait always gave.
      throw signal?.aborted === true ? signal.reason : err
    }
  }

  /** Stop retrying and exchanging, and judge no more entries for this database. */
  stop (): void {
    this.#stopped = true
    clearTimeout(this.#retry)
    this.#antiEntropy?.stop()
    this.#topicValidators.delete(this.#address)
  }

  #report (detail: SyncProgress): void {
    this.#events.safeDispatchEvent('sync:progress', { detail })
  }

  #watch (): void {
    const { events, log } = this.#db
    // The first listener: the indexes hear of an entry before anyone else. Not OrbitDB's
    // `onUpdate` hook, which would say so by itself: `orbitdb.open` does not pass it on
    // (`@orbitdb/core` 4.0.0 `src/orbitdb.js` 159), and neither does `Documents`
    // (`src/databases/documents.js` 29).
    events.on('update', (entry: LogEntry) => {
      this.#index.add(entry)
      // The operations of a batch are announced one by one, in their order.
      const count = dataPayloadsOf(entry.payload).length
      if (count <= 1) this.#events.safeDispatchEvent('update', { detail: { did: entry.identity, hash: entry.hash } })
      else for (let index = 0; index < count; index++) this.#events.safeDispatchEvent('update', { detail: { did: entry.identity, hash: entry.hash, index, operations: count } })
      const final = this.#finalProgress
      this.#finalProgress = undefined
      if (final !== undefined) this.#report(final)
    })
    events.on('join', (peerId: unknown) => {
      this.#failedExchanges = 0
      this.#exchanged.add(String(peerId))
      this.#events.safeDispatchEvent('peer:join', { detail: { peerId: String(peerId) } })
    })
    events.on('leave', (peerId: unknown) => { this.#exchanged.delete(String(peerId)) })
    // Without a listener, OrbitDB's sync 'error' events would throw and crash the process.
    events.on('error', (err: unknown) => {
      this.#events.safeDispatchEvent('sync:error', { detail: err instanceof Error ? err : new Error(String(err)) })
      this.#retryExchange()
    })
    wrapJoinEntry(log, async (entry, join) => this.#join(entry, join))
    this.#fetches.onOrphans = () => { void this.#joinOrphans() }
  }

  /** One remote entry, as OrbitDB's sync hands it over: guarded, with progress, refusals reported. */
  async #join (entry: LogEntry, join: JoinEntry): Promise<boolean> {
    const log = this.#db.log
    // Heads sent again (every exchange resends them) need no progress report and no guard.
    if (await log.has(entry.hash)) return join(entry)
    // A later entry waiting in the queue links to this one and will join it in its walk.
    if (this.#fetches.skip(entry)) return false
    const catchUp = new CatchUp(entry, async () => log.heads(), () => this.#policy.progress.received, (detail) => { this.#report(detail) })
    let final: SyncProgress | undefined
    try {
      const joined = await this.#joinWithoutStalling(entry, join)
      final = catchUp.finish()
      // A joined head is readable only after OrbitDB updates its index, just before 'update'.
      if (joined && final !== undefined) this.#finalProgress = final
      else if (final !== undefined) this.#report(final)
      return joined
    } catch (err) {
      final ??= catchUp.finish()
      if (final !== undefined) this.#report(final)
      this.#reportRejected(entry, err)
      // Entries that waited to be joined with this one are joined alone (`#joinOrphans`).
      this.#fetches.drop(entry.hash)
      return false
    }
  }

  /**
   * Join, one by one, entries that were left to a later entry's join that will not happen
   * (it was refused, given up or let go). OrbitDB's join queue runs them in turn; each is
   * announced with 'update', as OrbitDB announces the joins it runs itself.
   */
  async #joinOrphans (): Promise<void> {
    for (const entry of this.#fetches.takeOrphans()) {
      if (this.#stopped) return
      try {
        if (await this.#db.log.joinEntry(entry)) this.#db.events.emit('update', entry)
      } catch (err) {
        // Reported by the join itself (entry:rejected); it comes again with a later exchange.
        debug('an entry left to a later join could not be joined alone: %e', err)
      }
    }
  }

  /**
   * A heads exchange failed, and OrbitDB has forgotten the peer: try again after a short,
   * random pause, so two peers that collided do not collide again.
   */
  #retryExchange (): void {
    if (this.#retry !== undefined || this.#stopped || !this.#retries) return
    // Doubling after each failure in a row, up to the anti-entropy interval: an exchange
    // that keeps failing (a peer too slow for its deadlines) is not resent twice a second.
    const base = Math.min(RETRY_EXCHANGE_MS * 2 ** this.#failedExchanges, ANTI_ENTROPY_MS)
    this.#failedExchanges = Math.min(this.#failedExchanges + 1, 16)
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      if (!this.#stopped) this.#resync()
    }, base + Math.random() * base)
    this.#retry.unref?.()
  }

  /**
   * Join a remote entry unless nothing of its past arrives for a while (stall-guard.ts).
   * With an ACL or ownership, the policy judges the entry and its past first (unless its
   * topic validator did), so OrbitDB's own check is then answered by `verdicts`; OrbitDB's
   * fetches are stopped if the join itself stands still.
   */
  async #joinWithoutStalling (entry: LogEntry, join: JoinEntry): Promise<boolean> {
    const fetches = this.#fetches
    const progress = (): number => this.#policy.progress.received + this.#policy.progress.judged + fetches.fetched + fetches.added
    // Given up, the entry comes again with the next exchange (anti-entropy, at the latest).
    if (this.#walksPast) await withoutStalling(entry, this.#verdicts.admit(entry), progress)
    return withoutStalling(entry, join(entry), progress, () => fetches.stop())
  }

  /** Tell listeners a remote entry was refused (OrbitDB would only log it to the console). */
  #reportRejected (entry: LogEntry | undefined, err: unknown): void {
    if (this.#stopped) return
    const r = rejectionOf(err)
    const claimed = typeof entry?.identity === 'string' ? entry.identity : '(none)'
    this.#events.safeDispatchEvent('entry:rejected', {
      detail: { hash: r.hash ?? String(entry?.hash), did: r.did ?? claimed, reason: r.reason, message: r.message }
    })
  }
}
