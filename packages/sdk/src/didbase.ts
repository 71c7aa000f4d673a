import {
  type Did,
  type DidIdentity,
  decodeInvite,
  didAcl,
  didWriters,
  loadOrCreateIdentity,
  loadSession,
  orbitIdentityLayer,
  createDidKeyIdentity
} from '@didbase/access'
import {
  isDelegated,
  type BlockstoreLike
} from '@didbase/access/internal'
import type { Schema } from '@didbase/schemas'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createOrbitDB, type OrbitDB, useAccessController } from '@orbitdb/core'
import type { CID } from 'multiformats/cid'
import type { ConnectionGater } from '@libp2p/interface'
import type { Helia } from 'helia'
import type { Blockstore } from 'interface-blockstore'
import { DEFAULT_DIRECTORY, DEFAULT_LISTEN, joinPath, listStores, lockDirectory, removeTemporary, storeExists, temporaryDirectory } from './node/platform.js'
import type { DatabaseHandle } from './databases/database.js'
import type { DocumentsDatabase } from './databases/documents.js'
import { countMarkers } from './storage/log-index.js'
import { type DatabaseInfo, Registry } from './databases/registry.js'
import { ClosedError, InvalidAddressError, InvalidQueryError } from './errors.js'
import { type IndexFields, indexFieldsOf, RecordDatabase } from './databases/records.js'
import type { EventLogDatabase } from './databases/eventlog.js'
import type { KeyValueDatabase } from './databases/keyvalue.js'
import { type DatabaseType, parseAddress } from './databases/manifest.js'
import { DEFAULT_OPEN_TIMEOUT, legacyAddress, resolveTarget } from './databases/open.js'
import { assembleHandle, bindIndex, type OpenedDatabase, openOrbitDatabase, type ReplicaHost } from './replica/assemble.js'
import { createNode, type IceServer, type Node } from './node/helia-node.js'
import { requestPin } from './pinning/pin.js'
import { startSync } from './upstream/sync-start.js'
import { handleHeadsQueries } from './sync/heads-query.js'
import { type AbortOptions, abortable } from './abort.js'
import { debugLog } from './log.js'

const log = debugLog('node')

export interface DidbaseInit {
  /** Where identity, blocks and databases live. Default `./.didbase`. */
  directory?: string
  /**
   * Keep blocks and the libp2p datastore in memory, and OrbitDB's small per-database state
   * in a temporary directory removed on close. For tests and throwaway peers.
   */
  memory?: boolean
  /**
   * Sign as this identity instead of the one kept in `directory`: a did:key identity, or a
   * delegated one (`walletSession`, `delegatedIdentity`, `fromDidSession`) whose entries are
   * signed by a session or device key for its user DID. Without it, a session kept for the
   * directory (`keepSession`) signs, else the directory's own key; a kept session that has
   * expired fails here with `SessionExpiredError`. See docs/identity.md.
   */
  identity?: DidIdentity
  /** Multiaddrs to listen on. Default: TCP on 127.0.0.1, any port. Add `/ws` addresses for browsers. */
  listen?: string[]
  /** Peers to dial at start and keep connected. */
  bootstrap?: string[]
  /** How long `open` waits for a manifest from peers, in ms. Default 30 000. */
  openTimeout?: number
  /**
   * Heads exchanged again after peers first meet: every `intervalMs` with every peer of a
   * database (anti-entropy; default 15 000, 0 for never), and shortly after a failed
   * exchange (`retry`, default true). Turning both off leaves only the live path (an
   * entry published as it is written, heads exchanged as peers meet): tests that prove
   * the live path does not lean on a resync do that.
   */
  resync?: ResyncOptions

  /**
   * Be a circuit relay (v2) for peers that cannot be dialed directly, such as browsers,
   * which then reach each other through this node. Default false; `didbase peer` turns it on.
   */
  relay?: boolean
  /**
   * libp2p's connection gater: decide which peers and addresses this node may connect to
   * (an allow list, say). Blocking a peer here is also how the fault suites cut the network.
   */
  connectionGater?: ConnectionGater
  /**
   * STUN and TURN servers for WebRTC between browsers (browser build only). Default:
   * libp2p's public STUN servers; `[]` for none, as on a closed network.
   */
  iceServers?: IceServer[]
  /**
   * Keep blocks (entries, manifests, policies, schemas) in this store instead of LevelDB
   * under `directory`. The caller opens and closes it. Every block read from it is checked
   * against its CID.
   */
  blockstore?: Blockstore
}

export interface ResyncOptions {
  intervalMs?: number
  retry?: boolean
}

/** Options of `open`, `dial`, `pin` and the other calls that wait on peers. */
export type OpenOptions = AbortOptions

export interface CreateOptions<T = unknown> extends OpenOptions {
  /**
   * Values must match this schema (`@didbase/schemas`). Its CID becomes part of the address,
   * every replica enforces it, and values read back are typed from it.
   */
  schema?: Schema<T>
  /**
   * DIDs that may write to a new database; `'*'` for anyone. Default: only this node's DID
   * (with `acl`: no one besides the admins).
   */
  writers?: string[]
  /**
   * Let admins change who may write after creation (grant, revoke, invites) without
   * changing the address. Implied by `admins`. Default false: a fixed set of writers.
   */
  acl?: boolean
  /** Admins of a new ACL database. Default: this node's DID. */
  admins?: string[]
  /** Only a record's creator (or an admin) may change or delete it. Key-value and documents. */
  ownership?: boolean
  /**
   * Seal values and record keys so that only members (admins, writers and `readers`) read
   * them; any replica still stores, serves and judges the database. With `acl`, admins grant
   * and revoke the `reader` role, and every revocation starts a new key epoch. See docs/privacy.md.
   */
  private?: boolean
  /** DIDs that may read a private database but not write to it (with `acl`: the readers it starts with). */
  readers?: string[]
  /**
   * Key-value and document databases: query indexes this replica keeps, each a field or a
   * list of fields (`'value.author'`, `['value.author', 'time']`). Not part of the address:
   * each replica keeps the indexes it declares, built from the records it holds (reported
   * by `index:progress`). See docs/queries.md.
   */
  indexes?: ReadonlyArray<IndexFields<T>>
}

export interface DocumentsOptions<T = unknown> extends CreateOptions<T> {
  /** Field that holds each document's key. Default `_id`. */
  indexBy?: string
}

export type AnyDatabase = KeyValueDatabase | DocumentsDatabase | EventLogDatabase

/** A running didbase node: one DID, one Helia + libp2p node, many databases. */
export interface Didbase extends AsyncDisposable {
  /**
   * The user DID: what policies name (writers, admins, readers, invites) and what every
   * record this node writes reports as its `writer`. With a delegated identity (a wallet
   * session, a device key) it is the wallet's `did:pkh` or the root did:key; otherwise `did`.
   */
  readonly user: Did
  /** The did:key whose key signs every entry from this node: the user DID itself, or the session or device key it delegated to. */
  readonly did: Did
  /** The libp2p peer id of this node. */
  readonly peerId: string
  /** Addresses other peers can dial, with `/p2p/<peerId>`. */
  readonly multiaddrs: string[]
  /** The underlying Helia node, for advanced use. */
  readonly helia: Helia
  dial: (address: string | Multiaddr, options?: OpenOptions) => Promise<void>
  keyValue: <T = unknown>(nameOrAddress: string, options?: CreateOptions<T>) => Promise<KeyValueDatabase<T>>
  documents: <T extends Record<string, unknown> = Record<string, unknown>>(nameOrAddress: string, options?: DocumentsOptions<T>) => Promise<DocumentsDatabase<T>>
  eventLog: <T = unknown>(nameOrAddress: string, options?: CreateOptions<T>) => Promise<EventLogDatabase<T>>
  /** Open any didbase database by address; its type comes from the manifest. `indexes` as for `keyValue` and `documents` (ignored by an event log). */
  open: (address: string, options?: OpenOptions & Pick<CreateOptions, 'indexes'>) => Promise<AnyDatabase>
  /** Open the database an invite is for and redeem it; then this node may write there. */
  accept: (token: string, options?: OpenOptions) => Promise<AnyDatabase>
  /**
   * Take back a key this node's user delegated to (a lost device, a leaked session) in every
   * database this node has open where the user holds a role: a revocation lives in each
   * database's log, so one database's cannot reach another. Resolves to the revocation
   * entry written in each, by address; a database where the key was never registered (rules
   * version 2) or the user holds no role is left out. Open other databases and call again.
   *
   * @example
   * ```ts
   * const revoked = await laptop.revokeDevice(phoneKey)
   * console.log(`revoked in ${revoked.size} databases`)
   * ```
   */
  revokeDevice: (did: string, options?: AbortOptions) => Promise<Map<string, string>>
  /**
   * Ask an always-on peer (`didbase peer --creators ...`) to keep and serve a database, so
   * others can sync it while this node is offline. Resolves once the peer has what this node
   * has, for a database open here. Throws `PinRefusedError` with the peer's reason.
   */
  pin: (address: string, peer: string | Multiaddr, options?: OpenOptions) => Promise<void>
  /**
   * The databases this node holds (their stores are in its directory): name, type,
   * address, policy kind, whether private, entries held, and whether this node's user made
   * it by that name here (opening the name opens it). `didbase ls` prints it.
   */
  databases: (options?: AbortOptions) => Promise<DatabaseInfo[]>
  /** Close every database and stop the node. Idempotent; an abort stops the waiting, not the closing. */
  close: (options?: AbortOptions) => Promise<void>
}

// A replica builds the controller a manifest names from OrbitDB's registry, with no options.
useAccessController(didWriters as never)
useAccessController(didAcl as never)

class DidbaseNode implements Didbase {
  readonly user: Did
  readonly did: Did
  readonly helia: Helia
  readonly #node: Node
  readonly #orbitdb: OrbitDB
  readonly #openTimeout: number
  /** What this node lends each replica it assembles. */
  readonly #host: ReplicaHost
  readonly #registry: Registry
  readonly #tempDir: string | undefined
  readonly #orbitdbDirectory: string
  readonly #handles = new Map<string, AnyDatabase>()
  /** Closes of handles under way (one may have been called off by its signal): `close` waits for them. */
  readonly #closingHandles = new Set<Promise<void>>()
  /** Opens binding their log index (log-index.ts), by address. */
  readonly #binding = new Map<string, Promise<void>>()
  #closing: Promise<void> | undefined

  readonly #unlock: () => void

  constructor (identity: DidIdentity, node: Node, orbitdb: OrbitDB, options: { orbitdbDirectory: string, openTimeout: number, resync: ResyncOptions, tempDir: string | undefined, unlock: () => void }) {
    const { orbitdbDirectory, openTimeout, resync, tempDir, unlock } = options
    this.#unlock = unlock
    this.user = identity.did
    this.did = isDelegated(identity) ? identity.signer.did : identity.did
    this.#node = node
    this.helia = node.helia
    this.#orbitdb = orbitdb
    this.#openTimeout = openTimeout
    this.#tempDir = tempDir
    this.#orbitdbDirectory = orbitdbDirectory
    this.#host = { helia: node.helia, orbitdb, orbitdbDirectory, identity, validators: node.validators, resync, queryStore: node.queryStore }
    // Blocks read from this node only: a listing or a name never waits on peers.
    const local = node.helia.blockstore as unknown as BlockstoreLike & { get: (cid: CID, o?: object) => ReturnType<BlockstoreLike['get']> }
    this.#registry = new Registry({
      datastore: node.helia.datastore,
      blockstore: { get: (cid, o) => local.get(cid, { ...o, offline: true }), put: async (cid, bytes, o) => local.put(cid, bytes, o) },
      stores: async () => listStores(orbitdbDirectory),
      size: async (address) => this.#size(address)
    })
  }

  async databases (options?: AbortOptions): Promise<DatabaseInfo[]> {
    this.#assertOpen()
    return abortable((async () => {
      const out: DatabaseInfo[] = []
      for (const held of await this.#registry.held()) {
        options?.signal?.throwIfAborted()
        out.push({
          name: held.manifest.name,
          type: held.manifest.type,
          address: held.address,
          policy: held.policy.type === 'didbase-acl' ? 'acl' : 'writers',
          private: held.policy.private !== undefined,
          size: await this.#size(held.address),
          named: await this.#registry.names(this.user, held)
        })
      }
      return out
    })(), options)
  }

  /** The heads of `address` when it is open here (what a heads query is answered with). */
  async headsOf (address: string): Promise<string[] | undefined> {
    const open = this.#handles.get(address)
    return open === undefined || this.#closing !== undefined ? undefined : open.heads()
  }

  /** Entries this node holds of `address`: from its open handle, or from its log index on disk. */
  async #size (address: string): Promise<number> {
    const open = this.#handles.get(address)
    if (open !== undefined) return open.size()
    return countMarkers(joinPath(this.#orbitdbDirectory, address, 'log', '_index'))
  }

  get peerId (): string {
    return this.helia.libp2p.peerId.toString()
  }

  get multiaddrs (): string[] {
    return this.helia.libp2p.getMultiaddrs().map((ma) => ma.toString())
  }

  async dial (address: string | Multiaddr, options: OpenOptions = {}): Promise<void> {
    this.#assertOpen()
    options.signal?.throwIfAborted()
    await this.helia.libp2p.dial(typeof address === 'string' ? multiaddr(address) : address, options)
  }

  async keyValue<T = unknown> (nameOrAddress: string, options: CreateOptions<T> = {}): Promise<KeyValueDatabase<T>> {
    return (await this.#open('keyvalue', nameOrAddress, options)) as KeyValueDatabase<T>
  }

  async documents<T extends Record<string, unknown> = Record<string, unknown>> (nameOrAddress: string, options: DocumentsOptions<T> = {}): Promise<DocumentsDatabase<T>> {
    return (await this.#open('documents', nameOrAddress, options)) as unknown as DocumentsDatabase<T>
  }

  async eventLog<T = unknown> (nameOrAddress: string, options: CreateOptions<T> = {}): Promise<EventLogDatabase<T>> {
    return (await this.#open('events', nameOrAddress, options)) as EventLogDatabase<T>
  }

  async open (address: string, options: OpenOptions & Pick<CreateOptions, 'indexes'> = {}): Promise<AnyDatabase> {
    return this.#open(undefined, address, options)
  }

  async revokeDevice (did: string, options: AbortOptions = {}): Promise<Map<string, string>> {
    this.#assertOpen()
    const written = new Map<string, string>()
    for (const [address, db] of this.#handles) {
      try {
        written.set(address, await db.revokeDevice(did, options))
      } catch (err) {
        // Nothing to take back there (never registered, or no role): the others still count.
        const reason = (err as { reason?: string }).reason
        if ((err as Error).name !== 'AccessDeniedError' || (reason !== 'invalid-operation' && reason !== 'not-a-member')) throw err
        log('no revocation of %s in %s: %s', did, address, (err as Error).message)
      }
    }
    return written
  }

  async accept (token: string, options: OpenOptions = {}): Promise<AnyDatabase> {
    const db = await this.open(decodeInvite(token).address, options)
    await db.redeem(token, options)
    return db
  }

  async pin (address: string, peer: string | Multiaddr, options: OpenOptions = {}): Promise<void> {
    this.#assertOpen()
    if (parseAddress(address) === undefined) throw new InvalidAddressError(`${address} is not a database address; pin takes the address a database was created with`)
    await requestPin(this.helia.libp2p, typeof peer === 'string' ? multiaddr(peer) : peer, address, options.signal)
  }

  async #open (wanted: DatabaseType | undefined, nameOrAddress: string, options: DocumentsOptions<any>): Promise<AnyDatabase> {
    this.#assertOpen()
    options.signal?.throwIfAborted()
    if (indexFieldsOf(options.indexes).length > 0 && wanted === 'events') throw new InvalidQueryError('indexes: for key-value and document databases')
    const schemaCid = options.schema === undefined ? undefined : await options.schema.cid()
    const blockstore = this.helia.blockstore as unknown as BlockstoreLike
    let target = await resolveTarget(blockstore, wanted, nameOrAddress, options, schemaCid, this.#openTimeout)
    const name = target.cid === undefined ? nameOrAddress : undefined
    // A name opens the database it opened before, whatever its kind (a private one's address holds a random key).
    const registered = name === undefined ? undefined : await this.#registry.find(this.user, target.type, name, options, schemaCid)
    if (registered !== undefined) {
      nameOrAddress = registered
      target = await resolveTarget(blockstore, wanted, registered, {}, undefined, this.#openTimeout)
    }
    // A name this node made a database for before rules versions opens that database.
    const legacy = target.cid === undefined ? await legacyAddress(this.helia.blockstore, this.user, nameOrAddress, target.type, target.meta, options) : undefined
    // Only a database this node opened before: a manifest block alone may be one a peer sent.
    if (legacy !== undefined && await storeExists(joinPath(this.#orbitdbDirectory, legacy, 'log', '_index'))) {
      nameOrAddress = legacy
      target = await resolveTarget(blockstore, wanted, legacy, options, schemaCid, this.#openTimeout)
    }
    const opened = await openOrbitDatabase(this.#host, nameOrAddress, target, options, schemaCid, (address) => this.#handles.has(address))
    const { db, type } = opened
    // Another open of this address may be binding its index right now: it makes the handle.
    const pending = this.#binding.get(db.address)
    if (pending !== undefined) await pending
    const fresh = !this.#handles.has(db.address)
    if (fresh) {
      const bound = bindIndex(this.#host, opened)
      this.#binding.set(db.address, bound.catch(() => {}))
      try {
        await bound
      } catch (err) {
        await db.close().catch((e) => { log.error('closing %s after a failed open: %e', db.address, e) })
        throw err
      } finally {
        this.#binding.delete(db.address)
      }
    }
    const handle = this.#handleFor(opened)
    if (fresh) {
      try {
        await startSync(db, this.helia)
      } catch (err) {
        await handle.close()
        throw err
      }
    }
    if (name !== undefined) await this.#registry.remember(this.user, type, name, db.address)
    if (handle instanceof RecordDatabase) handle.declareIndexes(options.indexes)
    return handle
  }

  /** The open handle of the database, or a new one over a replica assembled for it (replica/assemble.ts). */
  #handleFor (opened: OpenedDatabase): AnyDatabase {
    const { db } = opened
    const existing = this.#handles.get(db.address)
    if (existing !== undefined) return existing
    const handle = assembleHandle(this.#host, opened, {
      onClose: (closing) => {
        this.#handles.delete(db.address)
        this.#closingHandles.add(closing)
        void closing.catch(() => {}).finally(() => this.#closingHandles.delete(closing))
      }
    })
    this.#handles.set(db.address, handle)
    return handle
  }

  #assertOpen (): void {
    if (this.#closing !== undefined) throw new ClosedError('this didbase node is closed')
  }

  async close (options?: AbortOptions): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...[...this.#handles.values()].map(async (h) => (h as DatabaseHandle).close()), ...this.#closingHandles])
      await this.#orbitdb.stop()
      await this.#node.stop()
      if (this.#tempDir !== undefined) await removeTemporary(this.#tempDir)
      this.#unlock()
    })()
    return abortable(this.#closing, options)
  }

  async [Symbol.asyncDispose] (): Promise<void> {
    await this.close()
  }
}

/**
 * Start a didbase node: an embedded Helia + libp2p node with OrbitDB on top, signing as a DID.
 *
 * @example
 * ```ts
 * import { createDidbase } from '@didbase/sdk'
 *
 * const didbase = await createDidbase({ directory: './.didbase' })
 * const todos = await didbase.keyValue<{ title: string }>('todos')
 * await todos.put('1', { title: 'write docs' })
 * await didbase.close()
 * ```
 */
export async function createDidbase (init: DidbaseInit = {}): Promise<Didbase> {
  const memory = init.memory === true
  const tempDir = memory && init.directory === undefined ? await temporaryDirectory() : undefined
  const directory = tempDir ?? init.directory ?? DEFAULT_DIRECTORY
  // First, so two tabs never race to create one identity.
  const unlock = await lockDirectory(directory)
  let node: Node | undefined
  try {
    // A session kept for the directory (keepSession) signs, unless an identity is given; an expired one fails here, not at the first write.
    const identity = init.identity ?? (memory ? createDidKeyIdentity() : (await loadSession(directory)) ?? await loadOrCreateIdentity(directory))
    node = await createNode({
      directory,
      memory,
      listen: init.listen ?? DEFAULT_LISTEN,
      bootstrap: init.bootstrap ?? [],
      relay: init.relay === true,
      ...(init.connectionGater !== undefined ? { connectionGater: init.connectionGater } : {}),
      ...(init.iceServers !== undefined ? { iceServers: init.iceServers } : {}),
      ...(init.blockstore !== undefined ? { blockstore: init.blockstore } : {})
    })
    const { identity: orbitIdentity, identities } = orbitIdentityLayer(identity)
    const orbitdbDirectory = joinPath(directory, 'orbitdb')
    const orbitdb = await createOrbitDB({ ipfs: node.helia, identity: orbitIdentity, identities, directory: orbitdbDirectory })
    const didbase = new DidbaseNode(identity, node, orbitdb, { orbitdbDirectory, openTimeout: init.openTimeout ?? DEFAULT_OPEN_TIMEOUT, resync: init.resync ?? {}, tempDir, unlock })
    await handleHeadsQueries(node.helia.libp2p, async (address) => didbase.headsOf(address))
    return didbase
  } catch (err) {
    await node?.stop()
    unlock()
    throw err
  }
}
