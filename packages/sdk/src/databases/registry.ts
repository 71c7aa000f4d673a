/**
 * Which databases a node holds, and which one a name opens.
 *
 * A name alone does not always make the same address: a private database's policy block
 * holds a fresh random key, so the same name and options made a new, empty database on
 * every run. The registry remembers, in the node's datastore (LevelDB in Node, IndexedDB in
 * browsers), the address each name opened for each user, so opening the name again opens
 * that database, whatever kind it is. Databases made before the registry are found from
 * the directory's OrbitDB stores: a store whose manifest has the name and type and whose
 * policy names the user as a founder (an admin, or a writer of a fixed set).
 */
import { Did, type PolicyBlock } from '@didbase/access'
import type { BlockstoreLike } from '@didbase/access/internal'
import { loadPolicy } from '@didbase/access/internal'
import type { Datastore } from 'interface-datastore'
import { Key } from 'interface-datastore'
import { base64url } from 'multiformats/bases/base64'
import type { CID } from 'multiformats/cid'
import { NameTakenError } from '../errors.js'
import { debugLog } from '../log.js'
import { type DatabaseType, type Manifest, parseAddress, readManifest } from './manifest.js'
import type { CreateChoices } from './open.js'

const log = debugLog('registry')

/** A database this node holds, as `didbase.databases()` lists it. */
export interface DatabaseInfo {
  name: string
  type: DatabaseType
  address: string
  /** `writers`: a fixed set of writers; `acl`: admins grant and revoke roles. */
  policy: 'writers' | 'acl'
  private: boolean
  /** Entries in this node's copy of the log. */
  size: number
  /** This node's user made it by name here: opening the name opens it. */
  named: boolean
}

/** A store read from this node's blocks: its manifest and policy. */
export interface HeldDatabase {
  address: string
  manifest: Manifest
  policy: PolicyBlock
}

export interface RegistryInit {
  datastore: Datastore
  /** The node's blocks, read without asking peers. */
  blockstore: BlockstoreLike
  /** Addresses of the databases whose OrbitDB stores are in the node's directory. */
  stores: () => Promise<string[]>
  /** Entries this node holds of the database at `address`. */
  size: (address: string) => Promise<number>
}

/** How long reading a manifest or policy block from this node's own store may take. */
const LOCAL_READ_MS = 5_000

export class Registry {
  readonly #datastore: Datastore
  readonly #blockstore: BlockstoreLike
  readonly #stores: () => Promise<string[]>
  readonly #size: (address: string) => Promise<number>
  /** The stores as first read (names found there for databases made before the registry). */
  #scanned: Promise<HeldDatabase[]> | undefined

  constructor (init: RegistryInit) {
    this.#datastore = init.datastore
    this.#blockstore = init.blockstore
    this.#stores = init.stores
    this.#size = init.size
  }

  /**
   * The address `name` opens for `user`: the registered one, or one made before the registry.
   * Throws `NameTakenError` when a registered database contradicts `options`.
   */
  async find (user: string, type: DatabaseType, name: string, options: CreateChoices, schemaCid: CID | undefined): Promise<string | undefined> {
    const registered = await this.#registered(user, type, name)
    if (registered !== undefined) {
      const held = await this.#read(registered)
      if (held === undefined) {
        log('%s was registered for %s but its blocks are gone; the name makes a new database', registered, name)
        return undefined
      }
      const conflict = conflictOf(held, options, schemaCid)
      if (conflict !== undefined) {
        throw new NameTakenError(`"${name}" is the name of ${registered} here (${describe(held)}), made with other options: ${conflict}. Open it by address, or give the new database another name`, registered)
      }
      return registered
    }
    this.#scanned ??= this.held()
    const candidates = (await this.#scanned).filter((h) => h.manifest.name === name && h.manifest.type === type && founds(h.policy, user) && conflictOf(h, options, schemaCid) === undefined)
    if (candidates.length <= 1) return candidates[0]?.address
    // Before the registry, each open of a private name made another database, mostly left
    // empty: the one holding the most entries is the one the user wrote to.
    const sized = await Promise.all(candidates.map(async (h) => ({ address: h.address, size: await this.#size(h.address) })))
    return sized.sort((a, b) => b.size - a.size || (a.address < b.address ? -1 : 1))[0]?.address
  }

  /** Remember that `name` opened `address` for `user`. */
  async remember (user: string, type: DatabaseType, name: string, address: string): Promise<void> {
    if (await this.#registered(user, type, name) === address) return
    await this.#datastore.put(this.#key(user, type, name), new TextEncoder().encode(address))
  }

  /** Whether `name` opens `address` for `user`. */
  async names (user: string, held: HeldDatabase): Promise<boolean> {
    return await this.#registered(user, held.manifest.type, held.manifest.name) === held.address
  }

  /** Every database whose store is in the node's directory and whose blocks this node holds. */
  async held (): Promise<HeldDatabase[]> {
    const out: HeldDatabase[] = []
    for (const address of await this.#stores()) {
      const held = await this.#read(address)
      if (held !== undefined) out.push(held)
    }
    return out.sort((a, b) => (a.address < b.address ? -1 : 1))
  }

  async #registered (user: string, type: DatabaseType, name: string): Promise<string | undefined> {
    try {
      return new TextDecoder().decode(await this.#datastore.get(this.#key(user, type, name)))
    } catch {
      return undefined
    }
  }

  #key (user: string, type: DatabaseType, name: string): Key {
    const part = (s: string): string => base64url.baseEncode(new TextEncoder().encode(s))
    return new Key(`/didbase/names/${part(user)}/${type}/${part(name)}`)
  }

  /** The manifest and policy of `address`, from this node's blocks; undefined when it lacks them or they are not didbase's. */
  async #read (address: string): Promise<HeldDatabase | undefined> {
    try {
      const cid = parseAddress(address)
      if (cid === undefined) return undefined
      const signal = AbortSignal.timeout(LOCAL_READ_MS)
      const manifest = await readManifest(this.#blockstore, cid, signal)
      const policy = await loadPolicy(this.#blockstore, manifest.accessController)
      return { address, manifest, policy }
    } catch (err) {
      log('the store of %s is not a database this node can read: %e', address, err)
      return undefined
    }
  }
}

/** Whether `policy` names `user` as one of its founders: an admin, or a writer of a fixed set. */
function founds (policy: PolicyBlock, user: string): boolean {
  return (policy.admins ?? policy.writers).includes(user)
}

function describe (held: HeldDatabase): string {
  return `a ${held.manifest.type} database, ${held.policy.type === 'didbase-acl' ? 'with an ACL' : 'with a fixed set of writers'}${held.policy.private !== undefined ? ', private' : ''}`
}

function canonical (dids: readonly string[]): string {
  const set = [...new Set(dids.map((d) => (d === '*' ? d : Did.parse(d))))].sort()
  return JSON.stringify(set.includes('*') ? ['*'] : set)
}

/**
 * What in `options` contradicts the database `held`, if anything. Only what the caller
 * gave counts: leaving an option out asks for the database the name already has.
 */
export function conflictOf (held: HeldDatabase, options: CreateChoices, schemaCid: CID | undefined): string | undefined {
  const { policy, manifest } = held
  const acl = policy.type === 'didbase-acl'
  const asksAcl = options.acl ?? (options.admins !== undefined ? true : undefined)
  if (asksAcl !== undefined && asksAcl !== acl) return asksAcl ? 'acl was asked for; it has a fixed set of writers' : 'a fixed set of writers was asked for; it has an ACL'
  try {
    if (options.admins !== undefined && canonical(options.admins) !== canonical(policy.admins ?? [])) return `admins ${canonical(options.admins)}, not ${canonical(policy.admins ?? [])}`
    if (options.writers !== undefined && canonical(options.writers) !== canonical(policy.writers)) return `writers ${canonical(options.writers)}, not ${canonical(policy.writers)}`
  } catch {
    return 'a DID in the options is not valid'
  }
  if (options.private !== undefined && options.private !== (policy.private !== undefined)) return options.private ? 'private was asked for; its values are public' : 'a public database was asked for; it is private'
  if (options.readers !== undefined && canonical(options.readers) !== canonical(policy.private?.readers ?? [])) return `readers ${canonical(options.readers)}, not ${canonical(policy.private?.readers ?? [])}`
  if (options.ownership !== undefined && options.ownership !== (policy.ownership === true)) return `ownership ${String(options.ownership)}, not ${String(policy.ownership === true)}`
  if (schemaCid !== undefined && policy.schema?.toString() !== schemaCid.toString()) return `schema ${schemaCid.toString()}, not ${policy.schema?.toString() ?? '(none)'}`
  if (options.indexBy !== undefined && options.indexBy !== (manifest.meta.indexBy ?? '_id')) return `documents indexed by "${options.indexBy}", not "${manifest.meta.indexBy ?? '_id'}"`
  return undefined
}
