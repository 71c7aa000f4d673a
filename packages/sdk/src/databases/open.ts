/**
 * The steps of opening a database, each on its own: what the name or address names (type,
 * manifest meta, schema), the OrbitDB database with didbase's storage, the check that the
 * policy enforces the schema asked for, and the log index bound to its place on disk.
 */
import { didAcl, didWriters } from '@didbase/access'
import { type BlockstoreLike, isDidAccessController, legacyPolicyAddress } from '@didbase/access/internal'
import * as dagCbor from '@ipld/dag-cbor'
import * as Block from 'multiformats/block'
import { sha256 } from 'multiformats/hashes/sha2'
import type { Schema } from '@didbase/schemas'
import { type Database, Documents, Events, KeyValue, type LogEntry } from '@orbitdb/core'
import type { CID } from 'multiformats/cid'
import type { DocumentsOptions } from '../didbase.js'
import { InvalidPolicyError, InvalidValueError, WrongDatabaseTypeError } from '../errors.js'
import { type LogIndex, markReachable } from '../storage/log-index.js'
import { addressOf, type DatabaseType, type DidbaseMeta, parseAddress, readManifest } from './manifest.js'
import { debugLog } from '../log.js'

const log = debugLog('open')

/** How long opening an address waits for its manifest from peers, unless told otherwise. */
export const DEFAULT_OPEN_TIMEOUT = 30_000
export const DEFAULT_INDEX_BY = '_id'

/** What a new database is created with (the public options); an address carries these in its manifest. */
export type CreateChoices = DocumentsOptions<unknown>

export interface Target {
  type: DatabaseType
  meta: DidbaseMeta
  /** The manifest's CID when opening an address; undefined when creating by name. */
  cid: CID | undefined
}

/**
 * What `nameOrAddress` names: an address is checked against what the caller asked for (type,
 * schema, `indexBy`); a name makes a new manifest. `schemaCid` is `options.schema`'s CID.
 */
export async function resolveTarget (blockstore: BlockstoreLike, wanted: DatabaseType | undefined, nameOrAddress: string, options: CreateChoices, schemaCid: CID | undefined, timeout: number): Promise<Target> {
  const cid = parseAddress(nameOrAddress)
  if (cid === undefined) {
    if (wanted === undefined) throw new InvalidValueError('open() takes an address; use keyValue(), documents() or eventLog() to create by name')
    const meta: DidbaseMeta = wanted === 'documents' ? { didbase: 1, indexBy: options.indexBy ?? DEFAULT_INDEX_BY } : { didbase: 1 }
    if (schemaCid !== undefined) meta.schema = schemaCid.toString()
    return { type: wanted, meta, cid }
  }
  const signal = AbortSignal.any([AbortSignal.timeout(timeout), ...(options.signal ? [options.signal] : [])])
  const manifest = await readManifest(blockstore, cid, signal)
  if (wanted !== undefined && manifest.type !== wanted) {
    throw new WrongDatabaseTypeError(`${nameOrAddress} is a ${manifest.type} database, not ${wanted}; open it with didbase.open() or the matching method`)
  }
  if (schemaCid !== undefined && manifest.meta.schema !== schemaCid.toString()) {
    throw new WrongDatabaseTypeError(`${nameOrAddress} was created with schema ${manifest.meta.schema ?? '(none)'}, not ${schemaCid.toString()}`)
  }
  if (options.indexBy !== undefined && options.indexBy !== (manifest.meta.indexBy ?? DEFAULT_INDEX_BY)) {
    throw new WrongDatabaseTypeError(`${nameOrAddress} indexes documents by "${manifest.meta.indexBy}", not "${options.indexBy}"`)
  }
  return { type: manifest.type, meta: manifest.meta, cid }
}

/**
 * The address a database made by name had when an earlier version (before rules versions)
 * made it, if this node holds it: opening by name then finds it rather than making a new one.
 */
export async function legacyAddress (blockstore: { has: (cid: CID) => Promise<boolean> | boolean }, creator: string, name: string, type: DatabaseType, meta: DidbaseMeta, options: CreateChoices): Promise<string | undefined> {
  const acl = options.acl === true || options.admins !== undefined
  const init = { ...(options.writers ? { writers: options.writers } : {}), ...(options.admins ? { admins: options.admins } : {}), ...(options.ownership === true ? { ownership: true } : {}), ...(options.schema ? { schema: options.schema as Schema } : {}), ...(options.private === true ? { private: true } : {}) }
  const accessController = await legacyPolicyAddress(acl ? 'acl' : 'writers', init, creator)
  if (accessController === undefined) return undefined
  const manifest = await Block.encode({ value: { name, type, accessController, meta }, codec: dagCbor, hasher: sha256 })
  if (!(await blockstore.has(manifest.cid))) return undefined
  return addressOf(manifest.cid)
}

/** The access controller a new database is created with. */
export function accessControllerFor (options: CreateChoices): ReturnType<typeof didWriters> {
  const common = { ownership: options.ownership === true, ...(options.schema ? { schema: options.schema as Schema } : {}), ...(options.writers ? { writers: options.writers } : {}) }
  const acl = options.acl === true || options.admins !== undefined
  if (options.readers !== undefined && options.private !== true) throw new InvalidPolicyError('readers are for private databases: pass private: true')
  const privacy = options.private === true ? { private: true, readers: options.readers ?? [] } : {}
  if (acl) return didAcl({ ...common, ...(options.admins ? { admins: options.admins } : {}), ...privacy })
  return didWriters({ ...common, ...privacy })
}

/** OrbitDB's database type for ours; plain KeyValue, as the handle keeps its own index (record-index.ts). */
export function databaseType (type: DatabaseType, meta: DidbaseMeta): (params: Record<string, unknown>) => Promise<Database> {
  if (type === 'keyvalue') return KeyValue()
  if (type === 'documents') return Documents({ indexBy: meta.indexBy ?? DEFAULT_INDEX_BY })
  return Events()
}

/** The schema that is enforced is the policy's; the manifest's meta is only a label. */
export async function enforcesSchema (db: Database, wanted: CID): Promise<boolean> {
  const enforced = isDidAccessController(db.access) ? db.access.schema : undefined
  return enforced !== undefined && (await enforced.cid()).equals(wanted)
}

/**
 * Bind the log index to `path` (where OrbitDB keeps a log's index by default, so databases
 * made before keep theirs), and have it mark what the heads reach once its markers are
 * read, in the background: the database opens as soon as the LevelDB is. Best effort past
 * the bind: an entry that cannot be read (a damaged block) fails where it is used.
 */
export async function bindLogIndex (logIndex: LogIndex, db: Database, path: string, storedEntry: (hash: string) => Promise<LogEntry | undefined>): Promise<void> {
  await logIndex.bind(path)
  logIndex.repairWith(async (marks) => {
    const heads = await db.log.heads().catch((err) => {
      log.error('could not read the heads of %s: %e', db.address, err)
      return []
    })
    await markReachable(marks, heads, async (hash) => storedEntry(hash).catch((err) => {
      log.error('could not read entry %s of %s: %e', hash, db.address, err)
      return undefined
    }))
  })
}
