/**
 * didbase's OrbitDB access controllers. The policy is a content-addressed block named in
 * the manifest (policy/policy-block.ts), so the database address commits to it and every replica,
 * which builds the controller from the manifest alone, enforces the same policy.
 *
 * - `didWriters`: a fixed set of writer DIDs (or anyone).
 * - `didAcl`: admins and writers that admins change with signed operations in the log,
 *   plus invites; the address never changes.
 * Either may add per-record ownership. How a verdict is reached: engines.ts.
 */
import { type AccessControllerFactory, type AccessControllerInstance, Entry, type LogEntry } from '@orbitdb/core'
import * as dagCbor from '@ipld/dag-cbor'
import * as Block from 'multiformats/block'
import { base58btc } from 'multiformats/bases/base58'
import { sha256 } from 'multiformats/hashes/sha2'
import type { CID } from 'multiformats/cid'
import { InvalidSchemaError, type Schema } from '@didbase/schemas'
import { InvariantError } from '../errors.js'
import { Judge } from '../judge/judge.js'
import type { AclState, Genesis } from '../policy/acl-state.js'
import { type BlockstoreLike, parseCid, putBlock } from '../policy/blocks.js'
import { deniedError } from './denials.js'
import { causalEngine, fixedWritersEngine, JudgeProgress } from './engines.js'
import { entryLoader, fetchSchema, loadPolicy, localClockReader, policySchema } from './fetch.js'
import { ACL_TYPE, genesisMembers, normalise, type PolicyBlock, type PrivateField, RULES_VERSION, WRITERS_TYPE } from '../policy/policy-block.js'
import { KeyLog, type KeySources } from '../private/key-log.js'
import { shareKey } from '../private/epoch-keys.js'
import { newKey } from '../private/sealed.js'
import { POLICY_SHARE } from '../private/database-keys.js'
import { InvalidPolicyError } from '../errors.js'
import { decodeInvite } from '../invite/invite.js'

export interface DidWritersInit {
  /** DIDs allowed to write; `'*'` for anyone. Default: the creator's DID. */
  writers?: string[]
  /** Only a record's creator may change or delete it. Default false. */
  ownership?: boolean
  /** Values must match this schema; its CID becomes part of the address. */
  schema?: Schema
  /**
   * Seal values and record keys so that only the writers and `readers` can read them; any
   * replica still stores, serves and judges the database. See docs/privacy.md.
   */
  private?: boolean
  /** DIDs that may read a private database but not write to it. */
  readers?: string[]
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
  /**
   * Seal values and record keys so that only members (admins, writers, readers) read them;
   * admins grant and revoke the reader role, and every revocation rotates the key. See docs/privacy.md.
   */
  private?: boolean
  /** Readers a private database starts with. */
  readers?: string[]
}

/** What the SDK asks a didbase controller, before it signs a local write and to show roles. */
export interface AccessPolicy {
  readonly type: string
  readonly mutable: boolean
  readonly ownership: boolean
  /** The rules version replicas judge this database by: 1 for databases made before rules versions, else `RULES_VERSION`. */
  readonly rulesVersion: number
  /** Admins and writers the database was created with. */
  readonly genesis: Genesis
  /** The schema values must match, if the database has one. In a private database only members check it, on read. */
  readonly schema: Schema | undefined
  /** Set for a private database: its readers and the key share every member opens. */
  readonly privacy: PrivateField | undefined
  /** Private databases: the epoch key shares and chain links accepted so far (members open them). */
  readonly keys: KeySources
  /** Tell the controller the address of its database, before any local check. */
  bind: (databaseAddress: string) => void
  /** Abort block fetches in flight: the database is closing. */
  stop: () => void
  /** Throw the typed error a local write of `payload` by `did` (signed by `signer`, a key `did` delegated to) on top of `heads` would earn. */
  check: (did: string, payload: unknown, heads: readonly string[], signer?: string) => Promise<void>
  /** Keep a schema document in the block store, so replicas can fetch it by CID. */
  storeSchema: (schema: Schema) => Promise<CID>
  /** The schema in force for an entry written on top of `heads` (it changes with `set-schema`). */
  schemaAt: (heads: readonly string[]) => Promise<Schema | undefined>
  /** Roles in force for an entry written on top of `heads`. */
  state: (heads: readonly string[]) => Promise<AclState>
  /**
   * Entries read from the block store (a peer, or the local disk after a restart) to be
   * checked, and entries judged, since the database opened: catch-up progress, and telling
   * slow work from a stall.
   */
  readonly progress: Readonly<JudgeProgress>
  /** @deprecated Read `progress.received`. */
  readonly received: number
  /** @deprecated Read `progress.judged`. */
  readonly judged: number
  /**
   * Whether `did` holds a role after every access operation this replica accepted (a revoked
   * member is a stranger again). Strangers' entries wait their turn to be judged; see topic-validator.ts.
   */
  knows: (did: string, signer?: string) => boolean
  /**
   * Whether `entry` redeems an invite for this database that names its DID (signing with its
   * own key) and an admin here: read, not verified (the judge verifies). Lets invitees wait
   * in a line of their own rather than behind strangers.
   */
  invited: (entry: LogEntry) => boolean
  /**
   * Whether `canAppend`'s acceptance of the entry `hash` is final, so that it may be
   * remembered. A fixed writer set accepts an entry whose links it does not hold yet before
   * it knows their clocks, and refuses it when it does (clock-check.ts): until then, asking
   * again must judge again.
   */
  isFinal: (hash: string) => boolean
}

export type DidAccessController = AccessControllerInstance & AccessPolicy

export function isDidAccessController (ac: unknown): ac is DidAccessController {
  return typeof (ac as DidAccessController)?.check === 'function' && typeof (ac as DidAccessController)?.state === 'function'
}

function createController (policy: PolicyBlock, address: string, blockstore: BlockstoreLike, schema: Schema | undefined): DidAccessController {
  const mutable = policy.type === ACL_TYPE
  const ownership = policy.ownership === true
  const genesis: Genesis = { admins: policy.admins ?? [], writers: policy.writers, ...(policy.private !== undefined ? { readers: policy.private.readers } : {}) }
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
  // Replicas judge a private database without reading it: its schema is checked by members, on read.
  const judgedSchema = policy.private === undefined ? schema : undefined
  const rules = { ...genesis, mutable, ownership, loadSchema, private: policy.private !== undefined, version: policy.rules ?? 1, ...(judgedSchema ? { schema: judgedSchema } : {}) }
  const progress = new JudgeProgress()
  const judgeFor = (logId: string): Judge => (judge ??= new Judge(logId, rules, entryLoader(blockstore, stopping.signal), (step) => {
    if (step === 'fetched') progress.received++
    else progress.judged++
  }))
  const bound = (): Judge => {
    if (judge === undefined) throw new InvariantError('the access controller is not bound to a database yet')
    return judge
  }
  const engine = !mutable && !ownership ? fixedWritersEngine(genesis, judgedSchema, progress, policy.private !== undefined, (logId) => (judge === undefined && logId !== '' ? judgeFor(logId) : bound()), localClockReader(blockstore), rules.version) : causalEngine(bound, judgeFor)
  // A fixed set of members has one epoch, whose key is in the policy block: nothing to log.
  const noKeys = new KeyLog()
  const writers = new Set(genesis.writers)

  return {
    type: policy.type,
    address,
    mutable,
    ownership,
    rulesVersion: policy.rules ?? 1,
    genesis,
    schema,
    privacy: policy.private,
    get keys () { return judge?.keys ?? noKeys },
    progress,
    get received () { return progress.received },
    get judged () { return progress.judged },
    invited: (entry) => {
      const acl = (entry.payload as { op?: unknown, value?: { action?: unknown, token?: unknown } } | null)
      if (acl?.op !== 'ACL' || acl.value?.action !== 'redeem' || typeof acl.value.token !== 'string' || judge === undefined) return false
      if (`did:key:${String(entry.key)}` !== entry.identity) return false
      try {
        const claims = decodeInvite(acl.value.token)
        return claims.address === judge.address && claims.audience === entry.identity && judge.isMember(claims.issuer) && judge.isAdmin(claims.issuer)
      } catch {
        return false
      }
    },
    // Named members only: where '*' may write, anyone is a writer, and a stranger's entries must still wait in the strangers' line.
    knows: (did, signer = did) => judge?.isMember(did, signer, { named: true }) ?? (signer === did && (writers.has(did) || genesis.admins.includes(did))),
    bind: (databaseAddress) => { judgeFor(databaseAddress) },
    stop: () => { stopping.abort() },
    isFinal: (hash) => engine.final(hash),
    check: async (did, payload, heads, signer) => {
      const denial = await engine.check(did, payload, heads, signer)
      if (denial !== undefined) throw deniedError(did, judge?.address ?? address, denial)
    },
    schemaAt: async (heads) => engine.schemaAt(heads),
    storeSchema: async (next) => {
      const cid = await next.cid()
      await blockstore.put(cid, next.bytes)
      return cid
    },
    state: async (heads): Promise<AclState> => engine.state(heads),
    canAppend: async (entry: LogEntry) => {
      // OrbitDB asks before it hashes a local append (oplog/log.js 183): hash it here, the
      // way OrbitDB will, when the verdict needs it (a fixed set of writers does not).
      const known = entry.hash
      let hashed: Promise<string> | undefined
      const hash = async (): Promise<string> => {
        if (known !== undefined) return known
        hashed ??= Entry.encode(entry).then((e) => e.hash)
        return hashed
      }
      // The policy runs once per local write: an entry whose payload `check` passed on the
      // heads it links to is not judged again.
      if (known === undefined && await engine.admitChecked(entry, hash)) return true
      await engine.admit(entry, hash)
      return true
    }
  }
}

/** The key of a new private database, shared with its writers and readers. */
async function privateFor (policy: PolicyBlock, readers: readonly string[]): Promise<PolicyBlock> {
  if (policy.writers.includes('*')) throw new InvalidPolicyError('a private database names its writers; "*" cannot hold a key')
  const sortedReaders = normalise([...readers], 'readers', false, true)
  const members = genesisMembers(policy, sortedReaders)
  const keyless = members.find((d) => !d.startsWith('did:key:'))
  if (keyless !== undefined) throw new InvalidPolicyError(`a private database's first key is wrapped to each founding member's did:key; ${keyless} has no key agreement key: grant or invite a wallet account after creation (its sessions hold the keys for it)`)
  const share = await shareKey(newKey(), members, POLICY_SHARE)
  return { ...policy, private: { readers: sortedReaders, share } }
}

function factory (type: PolicyBlock['type'], build: (creator: string) => PolicyBlock, newSchema: Schema | undefined, readers?: readonly string[]): AccessControllerFactory {
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
      if (readers !== undefined) policy = await privateFor(policy, readers)
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
 * The access-controller address a database made by name with `init` had before rules
 * versions (no `rules` field in its policy block), so that opening by name finds a database
 * an earlier version made. Undefined for private databases: their key is new each time.
 */
export async function legacyPolicyAddress (kind: 'writers' | 'acl', init: DidAclInit & DidWritersInit, creator: string): Promise<string | undefined> {
  if (init.private === true) return undefined
  const type = kind === 'acl' ? ACL_TYPE : WRITERS_TYPE
  const ownership = init.ownership === true ? { ownership: true as const } : {}
  const schema = init.schema === undefined ? {} : { schema: await init.schema.cid() }
  const policy: PolicyBlock = kind === 'acl'
    ? { type: ACL_TYPE, admins: normalise(init.admins ?? [creator], 'admins', false, false), writers: normalise(init.writers ?? [], 'writers', true, true), ...ownership, ...schema }
    : { type: WRITERS_TYPE, writers: normalise(init.writers ?? [creator], 'writers', true, false), ...ownership, ...schema }
  const block = await Block.encode({ value: policy, codec: dagCbor, hasher: sha256 })
  return `/${type}/${block.cid.toString(base58btc)}`
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
    ...(init.ownership === true ? { ownership: true } : {}),
    rules: RULES_VERSION
  }), init.schema, init.private === true ? init.readers ?? [] : undefined)
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
    ...(init.ownership === true ? { ownership: true } : {}),
    rules: RULES_VERSION
  }), init.schema, init.private === true ? init.readers ?? [] : undefined)
}
didAcl.type = ACL_TYPE
