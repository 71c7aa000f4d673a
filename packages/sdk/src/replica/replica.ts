/**
 * One open database, assembled in one place: the OrbitDB database and its policy, the vault
 * of a private database, the writer (every local write), the access operations, replication
 * and the key courier. A database handle (databases/) is the public surface over one replica.
 */
import type { AccessPolicy } from '@didbase/access/internal'
import type { Database } from '@orbitdb/core'
import type { TypedEventEmitter } from 'main-event'
import type { DatabaseEvents } from '../events.js'
import { InvariantError } from '../errors.js'
import { debugLog } from '../log.js'
import { Vault } from '../databases/privacy.js'
import { whenPeerHolds } from '../sync/peer-holds.js'
import { Replication } from '../sync/replication.js'
import { boundAppend, linkedHeads } from '../upstream/bounded-append.js'
import { AccessOperations } from './access-operations.js'
import type { EntryIndex, ReplicaComponents, ReplicaLifecycle } from './components.js'
import { KeyCourier } from './key-courier.js'
import { judgeOnce, type Verdicts } from './verdicts.js'
import { type AppendLog, Writer } from './writer.js'

const log = debugLog('replica')

export class Replica {
  readonly address: string
  readonly db: Database
  readonly policy: AccessPolicy
  /** Set for a private database: seals what this node writes and opens what it reads. */
  readonly vault: Vault | undefined
  readonly writer: Writer
  readonly access: AccessOperations
  readonly replication: Replication
  /** Every verdict on a remote entry, reached once per path (verdicts.ts). */
  readonly verdicts: Verdicts
  readonly #courier: KeyCourier | undefined
  readonly #events: TypedEventEmitter<DatabaseEvents>
  readonly #index: EntryIndex
  readonly #lifecycle: ReplicaLifecycle
  readonly #queryHeads: ReplicaComponents['network']['queryHeads']
  #closing: Promise<void> | undefined

  /** `events` is where the replica's events go (its handle); `index` the handle's index beside the log. */
  constructor (parts: ReplicaComponents, events: TypedEventEmitter<DatabaseEvents>, index: EntryIndex) {
    const { db, policy, identity } = parts
    this.db = db
    this.address = db.address
    this.policy = policy
    this.#events = events
    this.#index = index
    this.#lifecycle = parts.lifecycle
    this.#queryHeads = parts.network.queryHeads
    policy.bind(this.address)
    // The policy is the database's access controller (assemble.ts checks it is didbase's).
    this.verdicts = judgeOnce(db.access as typeof db.access & Pick<AccessPolicy, 'isFinal'>)
    boundAppend(db.log)
    const appendLog: AppendLog = {
      heads: async () => this.#linkedHeads(),
      append: async (payload) => db.addOperation(payload)
    }
    this.vault = policy.privacy === undefined ? undefined : new Vault(policy.privacy, identity, this.address, policy, appendLog.heads)
    this.writer = new Writer({ identity, address: this.address, policy, log: appendLog })
    this.access = new AccessOperations({ identity, address: this.address, policy, writer: this.writer, keyring: this.vault?.keyring })
    this.replication = new Replication({
      db,
      policy,
      verdicts: this.verdicts,
      topicValidators: parts.network.topicValidators,
      resync: parts.network.resync,
      ...parts.resync,
      fetches: parts.storage.fetches,
      events,
      index: {
        add: (entry) => {
          index.add(entry)
          this.#courier?.seen(entry)
        }
      }
    })
    const access = this.access
    this.#courier = this.vault === undefined || !policy.mutable
      ? undefined
      : new KeyCourier({ isAdmin: async () => access.isAdmin(), shareMissing: async () => access.shareMissingKeys(), rotateForRevoked: async () => access.rotateForRevokedDevices(), closed: () => this.closing })
    // What arrived while this replica was away may have left a member without a key.
    this.#courier?.poke()
    // A member's device is handed a private database's keys once its delegation is registered there.
    if (this.vault !== undefined && this.writer.delegated) this.#registerOnceMember()
  }

  /** Whether the replica is closing or closed. */
  get closing (): boolean {
    return this.#closing !== undefined
  }

  /** The heads a new entry links to, sorted: all of them unless there are more than a write may link (bounded-append.ts). */
  async #linkedHeads (): Promise<string[]> {
    return linkedHeads(await this.db.log.heads()).map((e) => e.hash).sort()
  }

  /** Hashes of the latest entries this replica has, sorted. */
  async heads (): Promise<string[]> {
    return (await this.db.log.heads()).map((e) => e.hash).sort()
  }

  /** Resolve once `peer` holds the entry `hash` of this database (heads-query.ts, peer-holds.ts). */
  async whenPeerHolds (peer: string, hash: string, signal: AbortSignal): Promise<void> {
    const query = this.#queryHeads
    if (query === undefined) throw new InvariantError('this replica cannot ask peers for heads')
    await whenPeerHolds({ query: async (s) => query(peer, s), get: async (h) => this.db.log.get(h), peer, address: this.address }, hash, signal)
  }

  /**
   * Register this device's delegation as soon as its user holds a role here: now, or when a
   * grant arrives (each update is a chance), so that an admin's node hands it the keys.
   */
  #registerOnceMember (): void {
    let trying = false
    let again = false
    const attempt = (): void => {
      if (trying) {
        again = true
        return
      }
      trying = true
      this.writer.registerSession().then(() => {
        this.#events.removeEventListener('update', attempt)
      }, (err) => {
        log('this device is not registered in %s yet: %e', this.address, err)
      }).finally(() => {
        trying = false
        if (again && !this.closing) {
          again = false
          attempt()
        }
      })
    }
    this.#events.addEventListener('update', attempt)
    attempt()
  }

  /** Close the replica and its database. Idempotent. */
  async close (): Promise<void> {
    if (this.#closing === undefined) {
      this.writer.close()
      this.#closing = this.#closeNow()
      this.#lifecycle.onClose(this.#closing)
    }
    return this.#closing
  }

  async #closeNow (): Promise<void> {
    // Writes already issued are committed (or refused) before the log closes.
    await this.writer.idle()
    this.replication.stop()
    await this.#courier?.idle()
    // Before the fetches stop: stopping them fails local reads too. A snapshot that cannot
    // be saved only makes the next open slower.
    await this.#index.save().catch((err) => { log.error('could not save what %s keeps between runs: %e', this.address, err) })
    this.#lifecycle.stop()
    this.policy.stop()
    await this.db.close()
  }
}
