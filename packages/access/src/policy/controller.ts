/**
 * didbase's OrbitDB access controllers. The policy is a content-addressed block named in
 * the manifest, so the database address commits to it and every replica, which builds the
 * controller from the manifest alone, enforces the same policy.
 *
 * - `didWriters`: a fixed set of writer DIDs (or anyone).
 * - `didAcl`: admins and writers that admins change with signed operations in the log,
 *   plus invites; the address never changes.
 * Either may add per-record ownership.
 */
import { type AccessControllerFactory, type AccessControllerInstance, Entry, type LogEntry } from '@orbitdb/core'
import { base58btc } from 'multiformats/bases/base58'
import type { AclState, Genesis } from './acl-state.js'
import { type BlockstoreLike, getBlock, parseCid, putBlock } from './blocks.js'
import { Did } from '../did/did.js'
import { type EntryLike, verifyEntry } from '../identity/entry.js'
import { AccessDeniedError, EntryRejectedError, InvalidInviteError, InvalidPolicyError, InviteExpiredError } from '../errors.js'
import { type Denial, Judge, type LoadedEntry, schemaDenial } from '../judge/judge.js'
import { InvalidSchemaError, type Schema, schemaFromDocument } from '@didbase/schemas'
import { CID } from 'multiformats/cid'
import { parseOperation } from './operations.js'

export const WRITERS_TYPE = 'didbase-writers'
export const ACL_TYPE = 'didbase-acl'
export const ACCESS_TYPES: readonly string[] = [WRITERS_TYPE, ACL_TYPE]
export const ANYONE = '*'
const MAX_DIDS = 10_000
const FETCH_TIMEOUT = 30_000

/** The policy block, as stored. `ownership` is left out when false, so older addresses stay valid. */
export interface PolicyBlock {
  type: typeof WRITERS_TYPE | typeof ACL_TYPE
  /** Sorted, unique DIDs; `['*']` for anyone. */
  writers: string[]
  /** Sorted, unique DIDs (ACL policies only). */
  admins?: string[]
  ownership?: true
  /** CID of the schema document every PUT and ADD value must match. */
  schema?: CID
}

export interface DidWritersInit {
  /** DIDs allowed to write; `'*'` for anyone. Default: the creator's DID. */
  writers?: string[]
  /** Only a record's creator may change or delete it. Default false. */
  ownership?: boolean
  /** Values must match this schema; its CID becomes part of the address. */
  schema?: Schema
}

export interface DidAclInit {
  /** Default: the creator's DID. */
  admins?: string[]
  /** Writers at creation (admins write too); `'*'` for anyone. Default: none besides admins. */
  writers?: string[]
  /** Only a record's creator (or an admin) may change or delete it. Default false. */
  ownership?: boolean
  /** Values must match this schema; its CID becomes part of the address. */
  schema?: Schema
}

/** What the SDK asks a didbase controller, before it signs a local write and to show roles. */
export interface AccessPolicy {
  readonly type: string
  readonly mutable: boolean
  readonly ownership: boolean
  /** Admins and writers the database was created with. */
  readonly genesis: Genesis
  /** The schema values must match, if the database has one. */
  readonly schema: Schema | undefined
  /** Tell the controller the address of its database, before any local check. */
  bind: (databaseAddress: string) => void
  /** Abort block fetches in flight: the database is closing. */
  stop: () => void
  /** Throw the typed error a local write of `payload` by `did` on top of `heads` would earn. */
  check: (did: string, payload: unknown, heads: readonly string[]) => Promise<void>
  /** Keep a schema document in the block store, so replicas can fetch it by CID. */
  storeSchema: (schema: Schema) => Promise<CID>
  /** The schema in force for an entry written on top of `heads` (it changes with `set-schema`). */
  schemaAt: (heads: readonly string[]) => Promise<Schema | undefined>
  /** Roles in force for an entry written on top of `heads`. */
  state: (heads: readonly string[]) => Promise<AclState>
  /**
   * Entries read from the block store (a peer, or the local disk after a restart) to be
   * checked since the database opened. Catch-up progress is measured with it.
   */
  readonly received: number
  /** Entries judged since the database opened: with `received`, tells slow work from a stall. */
  readonly judged: number
  /**
   * Whether `did` is known here to write: named in the policy, or the signer of an entry
   * this replica accepted. Strangers' entries wait their turn to be judged; see topic-validator.ts.
   */
  knows: (did: string) => boolean
}

export type DidAccessController = AccessControllerInstance & AccessPolicy

export function isDidAccessController (ac: unknown): ac is DidAccessController {
  return typeof (ac as DidAccessController)?.check === 'function' && typeof (ac as DidAccessController)?.state === 'function'
}

function normalise (dids: unknown, what: string, allowAnyone: boolean, allowEmpty: boolean): string[] {
  if (!Array.isArray(dids) || (dids.length === 0 && !allowEmpty)) {
    throw new InvalidPolicyError(`${what} must be a non-empty list of DIDs${allowAnyone ? ' or "*"' : ''}`)
  }
  if (dids.length > MAX_DIDS) throw new InvalidPolicyError(`at most ${MAX_DIDS} ${what}`)
  for (const d of dids) {
    if (d === ANYONE && allowAnyone) continue
    Did.parse(d as string)
  }
  const set = [...new Set(dids as string[])].sort()
  return set.includes(ANYONE) ? [ANYONE] : set
}

function schemaField (value: unknown): { schema?: CID } {
  if (value === undefined) return {}
  const cid = CID.asCID(value)
  if (cid === null) throw new InvalidPolicyError('the policy\'s schema is not a CID')
  return { schema: cid }
}

function policyBlock (value: unknown, where: string): PolicyBlock {
  const p = value as Partial<PolicyBlock> | null
  if (p?.type === WRITERS_TYPE) {
    return { type: WRITERS_TYPE, writers: normalise(p.writers, 'writers', true, false), ...(p.ownership === true ? { ownership: true } : {}), ...schemaField(p.schema) }
  }
  if (p?.type === ACL_TYPE) {
    return {
      type: ACL_TYPE,
      admins: normalise(p.admins, 'admins', false, false),
      writers: normalise(p.writers, 'writers', true, true),
      ...(p.ownership === true ? { ownership: true } : {}),
      ...schemaField(p.schema)
    }
  }
  throw new InvalidPolicyError(`${where} is not a didbase policy`)
}

/** Fetch and check the policy block an access-controller address names (`/didbase-acl/<cid>`). */
export async function loadPolicy (blockstore: BlockstoreLike, address: string): Promise<PolicyBlock> {
  const [, type, hash] = address.split('/')
  const cid = hash === undefined ? undefined : parseCid(hash)
  if (type === undefined || !ACCESS_TYPES.includes(type) || cid === undefined) {
    throw new InvalidPolicyError(`${address} is not a didbase policy address`)
  }
  let value: unknown
  try {
    value = await getBlock(blockstore, cid, { signal: fetchSignal() })
  } catch (cause) {
    throw new InvalidPolicyError(`policy block ${hash} could not be read or does not match its CID`, { cause })
  }
  const policy = policyBlock(value, `policy block ${hash}`)
  if (policy.type !== type) throw new InvalidPolicyError(`policy block ${hash} is a ${policy.type} policy, not ${type}`)
  return policy
}

function entryLoader (blockstore: BlockstoreLike, stopping: AbortSignal): (hash: string) => Promise<LoadedEntry> {
  return async (hash) => {
    const cid = parseCid(hash)
    if (cid === undefined) throw new Error(`${JSON.stringify(hash)} is not an entry hash`)
    const value = await getBlock(blockstore, cid, { signal: fetchSignal(stopping) })
    if (typeof value !== 'object' || value === null) throw new Error(`block ${hash} is not an entry`)
    return { ...(value as EntryLike), hash }
  }
}

/** The typed error a local write gets for what a replica would reject it for. */
function deniedError (did: string, address: string, denial: Denial): Error {
  switch (denial.reason) {
    case 'invite-expired':
      return denial.cause instanceof InviteExpiredError ? denial.cause : new InvalidInviteError(denial.detail, denial.reason)
    case 'invalid-invite':
    case 'invite-cancelled':
    case 'invite-used':
      return new InvalidInviteError(denial.detail, denial.reason)
    case 'not-an-admin':
      return new AccessDeniedError(did, address, 'is not an admin of this database', denial.reason)
    case 'not-the-owner':
      return new AccessDeniedError(did, address, `may not change this record: ${denial.detail}`, denial.reason)
    case 'schema-mismatch':
      return denial.cause instanceof Error ? denial.cause : new AccessDeniedError(did, address, denial.detail, denial.reason)
    case 'not-a-writer':
      return new AccessDeniedError(did, address, 'is not a writer of this database; ask an admin for an invite', denial.reason)
    default:
      return new AccessDeniedError(did, address, denial.detail, denial.reason)
  }
}

/** A fetch that gives up at the timeout, or as soon as `stopping` aborts. */
function fetchSignal (stopping?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(FETCH_TIMEOUT)
  return stopping === undefined ? timeout : AbortSignal.any([stopping, timeout])
}

/** Fetch a schema document by CID (hash-checked). Throws `InvalidSchemaError` for one didbase cannot check. */
async function fetchSchema (blockstore: BlockstoreLike, cid: CID, stopping?: AbortSignal): Promise<Schema> {
  return schemaFromDocument(await getBlock(blockstore, cid, { signal: fetchSignal(stopping) }))
}

/** The schema a policy block names, as an `InvalidPolicyError` when it cannot be had or used. */
async function policySchema (blockstore: BlockstoreLike, cid: CID): Promise<Schema> {
  try {
    return await fetchSchema(blockstore, cid)
  } catch (cause) {
    throw new InvalidPolicyError(`schema block ${cid} could not be read or is not a schema didbase can check: ${(cause as Error).message}`, { cause })
  }
}

function createController (policy: PolicyBlock, address: string, blockstore: BlockstoreLike, schema: Schema | undefined): DidAccessController {
  const mutable = policy.type === ACL_TYPE
  const ownership = policy.ownership === true
  const genesis: Genesis = { admins: policy.admins ?? [], writers: policy.writers }
  // The controller is built before the database address exists (the manifest names the
  // controller), so the judge learns the address from `bind` or from the first entry that
  // OrbitDB hands over, whose id OrbitDB has already checked against its own log id.
  let judge: Judge | undefined
  const stopping = new AbortController()
  const loadSchema = async (cid: string): Promise<Schema> => {
    const parsed = parseCid(cid)
    if (parsed === undefined) throw new InvalidSchemaError(`${cid} is not a CID`)
    return fetchSchema(blockstore, parsed, stopping.signal)
  }
  const rules = { ...genesis, mutable, ownership, loadSchema, ...(schema ? { schema } : {}) }
  let received = 0
  let judged = 0
  const progress = (step: 'fetched' | 'judged'): void => {
    if (step === 'fetched') received++
    else judged++
  }
  const judgeFor = (logId: string): Judge => (judge ??= new Judge(logId, rules, entryLoader(blockstore, stopping.signal), progress))
  const bound = (): Judge => {
    if (judge === undefined) throw new Error('the access controller is not bound to a database yet')
    return judge
  }

  // A fixed writer set without ownership needs no causal past: the entry alone decides.
  const simple = !mutable && !ownership
  const writers = new Set(genesis.writers)
  const isWriter = (did: string): boolean => writers.has(ANYONE) || writers.has(did)
  const simpleDenial = (did: string, payload: unknown): Denial | undefined => {
    const op = parseOperation(payload)
    if (typeof op === 'string') return { reason: 'invalid-operation', detail: op }
    if (op.kind === 'acl') return { reason: 'invalid-operation', detail: 'this database has a fixed set of writers; its access cannot change' }
    if (!isWriter(did)) return { reason: 'not-a-writer', detail: 'the DID is not a writer of this database' }
    return schemaDenial(schema, op)
  }

  return {
    type: policy.type,
    address,
    mutable,
    ownership,
    genesis,
    schema,
    get received () { return received },
    get judged () { return judged },
    knows: (did) => isWriter(did) || genesis.admins.includes(did) || (judge?.hasWritten(did) ?? false),
    bind: (databaseAddress) => { judgeFor(databaseAddress) },
    stop: () => { stopping.abort() },
    check: async (did, payload, heads) => {
      const denial = simple ? simpleDenial(did, payload) : await bound().check(did, payload, heads)
      if (denial !== undefined) throw deniedError(did, judge?.address ?? address, denial)
    },
    schemaAt: async (heads) => (simple ? schema : bound().schemaAt(heads)),
    storeSchema: async (next) => {
      const cid = await next.cid()
      await blockstore.put(cid, next.bytes)
      return cid
    },
    state: async (heads) => {
      if (simple) return { admins: new Set(), writers, cancelledInvites: new Set(), redeemedInvites: new Set() }
      return bound().stateAt(heads)
    },
    canAppend: async (entry: LogEntry) => {
      // OrbitDB asks before it hashes a local append: hash it here, the way OrbitDB will.
      const hash = entry.hash ?? (await Entry.encode(entry)).hash
      if (!simple) {
        try {
          await judgeFor(entry.id).judge({ ...(entry as unknown as EntryLike), hash })
        } catch (err) {
          if (err instanceof EntryRejectedError) throw err
          // Hostile input must earn a rejection, never another kind of exception.
          throw new EntryRejectedError(hash, typeof entry.identity === 'string' ? entry.identity : '(none)', 'malformed-entry', (err as Error).message)
        }
        return true
      }
      // Only remote entries arrive hashed: local appends are not received.
      if (entry.hash !== undefined) received++
      judged++
      const did = await verifyEntry(entry)
      const denial = simpleDenial(did, entry.payload)
      if (denial !== undefined) throw new EntryRejectedError(hash, did, denial.reason, denial.detail)
      return true
    }
  }
}

function factory (type: PolicyBlock['type'], build: (creator: string) => PolicyBlock, newSchema: Schema | undefined): AccessControllerFactory {
  return async (params) => {
    const blockstore = params.orbitdb.ipfs.blockstore as BlockstoreLike
    let address = params.address
    let policy: PolicyBlock
    let schema = newSchema
    if (address !== undefined) {
      policy = await loadPolicy(blockstore, address)
      schema = policy.schema === undefined ? undefined : await policySchema(blockstore, policy.schema)
    } else {
      policy = build(params.orbitdb.identity.id)
      if (newSchema !== undefined) {
        const cid = await newSchema.cid()
        await blockstore.put(cid, newSchema.bytes)
        policy = { ...policy, schema: cid }
      }
      const cid = await putBlock(blockstore, policy)
      address = `/${type}/${cid.toString(base58btc)}`
    }
    return createController(policy, address, blockstore, schema)
  }
}

/**
 * An OrbitDB access controller that lets a fixed set of DIDs write.
 *
 * @example
 * ```ts
 * await orbitdb.open('board', { AccessController: didWriters({ writers: [alice, bob] }) })
 * ```
 */
export function didWriters (init: DidWritersInit = {}): AccessControllerFactory {
  return factory(WRITERS_TYPE, (creator) => ({
    type: WRITERS_TYPE,
    writers: normalise(init.writers ?? [creator], 'writers', true, false),
    ...(init.ownership === true ? { ownership: true } : {})
  }), init.schema)
}
didWriters.type = WRITERS_TYPE

/**
 * An OrbitDB access controller with admins and writers that admins change in the log
 * (grant, revoke, invites), judged on every replica against each entry's causal past.
 */
export function didAcl (init: DidAclInit = {}): AccessControllerFactory {
  return factory(ACL_TYPE, (creator) => ({
    type: ACL_TYPE,
    admins: normalise(init.admins ?? [creator], 'admins', false, false),
    writers: normalise(init.writers ?? [], 'writers', true, true),
    ...(init.ownership === true ? { ownership: true } : {})
  }), init.schema)
}
didAcl.type = ACL_TYPE
