/**
 * The verdict on an entry, from the entry and its causal past alone.
 *
 * Before judging an entry, every entry it links to (`next` and `refs`, recursively) is
 * judged first, loading what is missing. The access state an entry is judged against is
 * the fold of the access operations in that past; ownership of a record is read from the
 * entries on its key in that past. Nothing a replica happens to have seen elsewhere counts,
 * so every replica reaches the same verdict in any arrival order.
 */
import { type AclEffect, AclFold, type AclOpFacts, type AclSet, AclSets, type AclState, type Genesis } from '../policy/acl-state.js'
import { type EntryLike, verifyEntry } from '../identity/entry.js'
import { EntryRejectedError, type RejectionReason } from '../errors.js'
import { verifyInvite } from '../invite/invite.js'
import { type Operation, parseOperation } from '../policy/operations.js'
import type { Schema } from '@didbase/schemas'
import * as dagCbor from '@ipld/dag-cbor'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

export interface JudgeRules extends Genesis {
  /** Values of PUT and ADD operations must match it, until a `set-schema` replaces it. */
  schema?: Schema
  /** Fetch and check a schema document by CID (`set-schema`). Throws `InvalidSchemaError` for a bad one. */
  loadSchema?: (cid: string) => Promise<Schema>
  /** Access operations (grant, revoke, invites) are allowed. */
  mutable: boolean
  /** Records may be changed only by the DID that created them, or an admin. */
  ownership: boolean
}

export type LoadedEntry = EntryLike & { hash: string }

interface Facts {
  time: number
  did: string
  /** Access operations in the past of this entry, and this entry if it is one. */
  acl: AclSet
  /** Set for access operations. */
  aclOp?: AclOpFacts
  /** Set for data entries on a key, when ownership is on. */
  key?: string
  /** The creations of its record in its past; none when this entry created the record. Dropped once indexed. */
  reached?: Creation[]
  /** Kept when ownership is on: the search for a record's creation walks them. `next` come first. */
  parents?: readonly string[]
  nextCount?: number
}

interface Candidate {
  hash: string
  did: string
  time: number
  /** `next` then `refs`, without repeats. */
  parents: string[]
  nextCount: number
  op: Operation
}

/** An entry that created a record, and entries known to have it in their past. */
interface Creation {
  hash: string
  did: string
  time: number
  reachedFrom: Set<string>
}

export interface Denial {
  reason: RejectionReason
  detail: string
  cause?: unknown
}

const MAX_REJECTED = 10_000
const PREFETCH_BATCH = 64

const MAX_LINKS = 1024

/** Entry hashes are base58btc CIDv1, dag-cbor, sha2-256: one spelling per entry, so no aliases. */
function isCanonicalHash (hash: unknown): hash is string {
  if (typeof hash !== 'string' || hash.length > 128) return false
  try {
    const cid = CID.parse(hash, base58btc)
    return cid.version === 1 && cid.code === dagCbor.code && cid.multihash.code === sha256.code && cid.toString(base58btc) === hash
  } catch {
    return false
  }
}

/** What is wrong with an entry's links, if anything. `known` hashes were checked before. */
function badLinks (entry: LoadedEntry, known: (hash: string) => boolean): string | undefined {
  const links = [...entry.next, ...entry.refs]
  if (links.length > MAX_LINKS) return `links to ${links.length} entries (at most ${MAX_LINKS})`
  const bad = links.find((h) => !(typeof h === 'string' && known(h)) && !isCanonicalHash(h))
  return bad === undefined ? undefined : `links to ${JSON.stringify(String(bad).slice(0, 80))}, which is not an entry hash`
}

/** The links worth loading: unknown ones, spelled canonically. */
function linksOf (entry: LoadedEntry, known: (hash: string) => boolean): string[] {
  if (!Array.isArray(entry.next) || !Array.isArray(entry.refs)) return []
  const links = [...entry.next, ...entry.refs]
  return links.length > MAX_LINKS ? [] : links.filter((h) => !(typeof h === 'string' && known(h)) && isCanonicalHash(h))
}

function isDenial (value: Facts | Denial): value is Denial {
  return (value as Denial).reason !== undefined
}

/** Why a data operation's value does not fit the database's schema, if it does not. */
export function schemaDenial (schema: Schema | undefined, op: Operation): Denial | undefined {
  if (schema === undefined || op.kind !== 'data' || op.op === 'DEL') return undefined
  const result = schema.read(op.value)
  return 'error' in result ? { reason: 'schema-mismatch', detail: result.error.message, cause: result.error } : undefined
}

export class Judge {
  readonly address: string
  readonly #rules: JudgeRules
  readonly #load: (hash: string) => Promise<LoadedEntry>
  readonly #facts = new Map<string, Facts>()
  readonly #rejected = new Map<string, EntryRejectedError>()
  /** For each record key: the accepted entries that created it (one, unless created concurrently). */
  readonly #creations = new Map<string, Creation[]>()
  readonly #sets = new AclSets()
  readonly #fold: AclFold

  readonly #onProgress: (step: 'fetched' | 'judged') => void
  /** DIDs with at least one accepted entry here. */
  readonly #writers = new Set<string>()

  /**
   * `onProgress` is told of each entry of the past fetched to be judged, and of each entry
   * judged (progress reports, and telling a slow judgement from a stalled one).
   */
  constructor (address: string, rules: JudgeRules, load: (hash: string) => Promise<LoadedEntry>, onProgress: (step: 'fetched' | 'judged') => void = () => {}) {
    this.address = address
    this.#rules = rules
    this.#load = load
    this.#onProgress = onProgress
    this.#fold = new AclFold(rules, (hash) => {
      const op = this.#facts.get(hash)?.aclOp
      if (op === undefined) throw new Error(`access operation ${hash} has not been judged`)
      return op
    })
  }

  /** Accept or throw `EntryRejectedError`. Judges (and loads) the entry's past first. */
  async judge (entry: LoadedEntry): Promise<void> {
    // Check the signature before fetching anything it links to: an unsigned entry that
    // names blocks no one has must not hold the database's queue.
    if (!this.#known(entry.hash)) {
      try {
        await verifyEntry(entry)
      } catch (err) {
        if (!(err instanceof EntryRejectedError)) throw err
        this.#reject(entry.hash, err.did, { reason: err.reason, detail: err.detail })
        throw this.#rejected.get(entry.hash) as EntryRejectedError
      }
    }
    try {
      await this.#settle([{ hash: entry.hash, entry }])
    } catch (err) {
      // Report the entry that was handed over, not the ancestor that could not be fetched.
      if (err instanceof EntryRejectedError && err.reason === 'unavailable') {
        throw new EntryRejectedError(entry.hash, typeof entry.identity === 'string' ? entry.identity : '(none)', 'unavailable', err.detail)
      }
      throw err
    }
    const rejected = this.#rejected.get(entry.hash)
    if (rejected !== undefined) throw rejected
  }

  readonly #schemas = new Map<string, Promise<Schema>>()

  /** A schema by CID, fetched once. A fetch that fails is not remembered. */
  async #schemaFor (cid: string): Promise<Schema> {
    let pending = this.#schemas.get(cid)
    if (pending === undefined) {
      const load = this.#rules.loadSchema
      if (load === undefined) throw new Error('this database cannot load schemas')
      pending = load(cid).catch((err: Error) => {
        if (err.name === 'InvalidSchemaError') throw err
        // Not a verdict: the block may be found later.
        this.#schemas.delete(cid)
        throw new EntryRejectedError('(schema)', '(unknown)', 'unavailable', `schema ${cid} could not be fetched: ${err.message}`)
      })
      this.#schemas.set(cid, pending)
    }
    return pending
  }

  /** Whether `did` has written an entry this replica accepted (it is no stranger here). */
  hasWritten (did: string): boolean {
    return this.#writers.has(did)
  }

  /** The schema a new entry linking to `heads` must match. */
  async schemaAt (heads: readonly string[]): Promise<Schema | undefined> {
    const state = await this.stateAt(heads)
    return state.schema === undefined ? this.#rules.schema : this.#schemaFor(state.schema)
  }

  /** The access state a new entry linking to `heads` would be judged against. */
  async stateAt (heads: readonly string[]): Promise<AclState> {
    return this.#fold.stateOf(await this.#aclAt(heads))
  }

  /** Why a new entry by `did` with `payload`, linking to `heads`, would be refused; or undefined. */
  async check (did: string, payload: unknown, heads: readonly string[]): Promise<Denial | undefined> {
    const op = parseOperation(payload)
    if (typeof op === 'string') return { reason: 'invalid-operation', detail: op }
    const parents = [...new Set(heads)]
    const acl = await this.#aclAt(parents)
    const time = Math.max(0, ...parents.map((h) => this.#facts.get(h)?.time ?? 0)) + 1
    const result = await this.#rule({ hash: '(new entry)', did, time, parents, nextCount: parents.length, op }, acl)
    return isDenial(result) ? result : undefined
  }

  async #aclAt (heads: readonly string[]): Promise<AclSet> {
    await this.#settle(heads.map((hash) => ({ hash })))
    let acl = this.#sets.empty
    for (const hash of heads) {
      const facts = this.#facts.get(hash)
      if (facts === undefined) throw this.#rejected.get(hash) ?? new Error(`entry ${hash} could not be judged`)
      acl = this.#sets.union(acl, facts.acl)
    }
    return acl
  }

  #known (hash: string): boolean {
    return this.#facts.has(hash) || this.#rejected.has(hash)
  }

  /** Judge `roots` and everything they link to, parents before children, without recursion. */
  async #settle (roots: Array<{ hash: string, entry?: LoadedEntry }>): Promise<void> {
    const known = (h: string): boolean => this.#known(h)
    await this.#prefetch(roots.flatMap((r) => (r.entry === undefined ? [r.hash] : linksOf(r.entry, known))))
    const stack = roots.map((r) => ({ ...r, expanded: false }))
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as typeof stack[number]
      if (this.#known(top.hash)) {
        stack.pop()
        continue
      }
      if (top.entry === undefined) {
        try {
          top.entry = await this.#load(top.hash)
        } catch (cause) {
          // Not a verdict: the entry may arrive later, so nothing is remembered.
          throw new EntryRejectedError(top.hash, '(unknown)', 'unavailable', `entry ${top.hash} in the causal past could not be loaded: ${(cause as Error).message}`)
        }
      }
      const entry = top.entry
      const missing = linksOf(entry, known)
      if (missing.length > 0 && !top.expanded) {
        top.expanded = true
        for (const hash of missing) stack.push({ hash, expanded: false })
        continue
      }
      stack.pop()
      await this.#decide(top.hash, entry)
    }
  }

  /**
   * Bring the unjudged past of `hashes` into the local block store, a level at a time with
   * many fetches in flight, as OrbitDB's own traversal does: walking it one entry at a time
   * would cost a network round trip per entry. Failures are left for the walk to report.
   */
  async #prefetch (hashes: readonly string[]): Promise<void> {
    const known = (h: string): boolean => this.#known(h)
    let level = [...new Set(hashes)].filter((h) => !this.#known(h))
    const seen = new Set(level)
    while (level.length > 0) {
      const nextLevel: string[] = []
      for (let i = 0; i < level.length; i += PREFETCH_BATCH) {
        const loaded = await Promise.allSettled(level.slice(i, i + PREFETCH_BATCH).map(async (h) => this.#load(h)))
        for (const result of loaded) {
          if (result.status !== 'fulfilled') continue
          this.#onProgress('fetched')
          for (const link of linksOf(result.value, known)) {
            if (seen.has(link) || this.#known(link)) continue
            seen.add(link)
            nextLevel.push(link)
          }
        }
      }
      level = nextLevel
    }
  }

  #reject (hash: string, did: string, denial: Denial): void {
    if (this.#rejected.size >= MAX_REJECTED) this.#rejected.delete(this.#rejected.keys().next().value as string)
    this.#rejected.set(hash, new EntryRejectedError(hash, did, denial.reason, denial.detail))
  }

  async #decide (hash: string, entry: LoadedEntry): Promise<void> {
    this.#onProgress('judged')
    let did: string
    try {
      did = await verifyEntry(entry)
    } catch (err) {
      if (err instanceof EntryRejectedError) {
        this.#reject(hash, err.did, { reason: err.reason, detail: err.detail })
        return
      }
      throw err
    }
    if (this.#known(hash)) return
    if (entry.id !== this.address) {
      this.#reject(hash, did, { reason: 'wrong-database', detail: `the entry belongs to ${entry.id}` })
      return
    }
    // Every judged hash is canonical: OrbitDB computes the hashes it hands over, and only
    // canonical links are ever loaded. So only unknown links need parsing.
    const malformed = badLinks(entry, (h) => this.#known(h))
    if (malformed !== undefined) {
      this.#reject(hash, did, { reason: 'malformed-entry', detail: malformed })
      return
    }
    const parents = [...new Set([...entry.next, ...entry.refs])]
    let acl = this.#sets.empty
    let maxTime = 0
    for (const parent of parents) {
      const facts = this.#facts.get(parent)
      if (facts === undefined) {
        const why = this.#rejected.get(parent)
        this.#reject(hash, did, { reason: 'rejected-past', detail: `it links to ${parent}, which was rejected${why ? ` (${why.reason})` : ''}` })
        return
      }
      acl = this.#sets.union(acl, facts.acl)
      maxTime = Math.max(maxTime, facts.time)
    }
    if (!(entry.clock.time > maxTime) || !Number.isSafeInteger(entry.clock.time)) {
      this.#reject(hash, did, { reason: 'invalid-clock', detail: `clock time ${entry.clock.time} is not later than the entries it links to (${maxTime})` })
      return
    }
    const op = parseOperation(entry.payload)
    if (typeof op === 'string') {
      this.#reject(hash, did, { reason: 'invalid-operation', detail: op })
      return
    }
    const result = await this.#rule({ hash, did, time: entry.clock.time, parents, nextCount: new Set(entry.next).size, op }, acl)
    if (this.#known(hash)) return
    if (isDenial(result)) {
      this.#reject(hash, did, result)
      return
    }
    this.#facts.set(hash, result)
    this.#writers.add(did)
    if (result.key === undefined) return
    const reached = result.reached ?? []
    delete result.reached
    if (reached.length === 0) {
      const creations = this.#creations.get(result.key) ?? []
      creations.push({ hash, did, time: result.time, reachedFrom: new Set() })
      this.#creations.set(result.key, creations)
    }
    // Remember that this entry reaches its record's creations: later searches stop here.
    for (const creation of reached) creation.reachedFrom.add(hash)
  }

  /** The policy itself: may `c` do what it asks, given the access operations in its past? */
  async #rule (c: Candidate, pastAcl: AclSet): Promise<Facts | Denial> {
    const state = this.#fold.stateOf(pastAcl)
    const isAdmin = state.admins.has(c.did)
    const base = { time: c.time, did: c.did, ...(this.#rules.ownership ? { parents: c.parents, nextCount: c.nextCount } : {}) }
    if (c.op.kind === 'acl') {
      const acl = c.op.acl
      if (!this.#rules.mutable) return { reason: 'invalid-operation', detail: 'this database has a fixed set of writers; its access cannot change' }
      let effect: AclEffect
      let actor = c.did
      if (acl.action === 'redeem') {
        let claims: Awaited<ReturnType<typeof verifyInvite>>
        try {
          claims = await verifyInvite(acl.token, { address: this.address, audience: c.did, at: acl.at })
        } catch (err) {
          return { reason: (err as { reason?: RejectionReason }).reason ?? 'invalid-invite', detail: (err as Error).message, cause: err }
        }
        if (!state.admins.has(claims.issuer)) return { reason: 'invalid-invite', detail: `the invite's issuer ${claims.issuer} is not an admin of this database` }
        if (claims.role === 'admin' && !this.#fold.isGenesisAdmin(claims.issuer)) {
          return { reason: 'invalid-invite', detail: 'only a founding admin may invite an admin' }
        }
        if (state.cancelledInvites.has(claims.id)) return { reason: 'invite-cancelled', detail: `invite ${claims.id} was cancelled by an admin` }
        if (state.redeemedInvites.has(claims.id)) return { reason: 'invite-used', detail: `invite ${claims.id} was already redeemed; an invite is good once` }
        effect = { type: 'grant', role: claims.role, did: c.did, invite: claims.id }
        actor = claims.issuer
      } else if (acl.action === 'set-schema') {
        if (!this.#fold.isGenesisAdmin(c.did)) return { reason: 'not-an-admin', detail: 'only a founding admin may change the schema' }
        try {
          await this.#schemaFor(acl.schema.toString())
        } catch (err) {
          if ((err as Error).name !== 'InvalidSchemaError') throw err
          return { reason: 'invalid-operation', detail: `schema ${acl.schema} is not a schema didbase can check: ${(err as Error).message}` }
        }
        effect = { type: 'schema', cid: acl.schema.toString() }
      } else {
        if (!isAdmin) return { reason: 'not-an-admin', detail: `only an admin may ${acl.action} (the signer is not an admin here)` }
        if (acl.action !== 'cancel-invite' && acl.role === 'admin' && !this.#fold.isGenesisAdmin(c.did)) {
          return { reason: 'not-an-admin', detail: `only a founding admin (named when the database was created) may ${acl.action} the admin role` }
        }
        if (acl.action === 'revoke' && acl.role === 'admin' && this.#fold.isGenesisAdmin(acl.did)) {
          return { reason: 'invalid-operation', detail: `${acl.did} is an admin named when the database was created; it cannot be revoked` }
        }
        effect = acl.action === 'cancel-invite' ? { type: 'cancel-invite', id: acl.id } : { type: acl.action, role: acl.role, did: acl.did }
      }
      const aclOp = { hash: c.hash, effect, actor, at: acl.at, past: pastAcl }
      return { ...base, acl: this.#sets.with(pastAcl, c.hash), aclOp }
    }
    if (!isAdmin && !state.writers.has('*') && !state.writers.has(c.did)) {
      return { reason: 'not-a-writer', detail: 'the DID is not a writer of this database' }
    }
    const schema = state.schema === undefined ? this.#rules.schema : await this.#schemaFor(state.schema)
    const mismatch = schemaDenial(schema, c.op)
    if (mismatch !== undefined) return mismatch
    if (!this.#rules.ownership || c.op.key === null) return { ...base, acl: pastAcl }
    const reached = this.#creationsInPast(c.parents, c.op.key)
    const owners = new Set(reached.map((r) => r.did))
    if (!isAdmin && owners.size > 0 && !(owners.size === 1 && owners.has(c.did))) {
      const who = [...owners].join(' and ')
      return { reason: 'not-the-owner', detail: `record ${JSON.stringify(c.op.key)} belongs to ${who}${owners.size > 1 ? ' (created concurrently; only an admin may change it)' : ''}` }
    }
    return { ...base, acl: pastAcl, key: c.op.key, reached }
  }

  /**
   * The entries that created record `key` and are in the past of `parents`: their authors
   * own it. More than one only if it was created concurrently; none if it does not exist there.
   */
  #creationsInPast (parents: readonly string[], key: string): Creation[] {
    return (this.#creations.get(key) ?? []).filter((creation) => this.#reaches(parents, creation))
  }

  /**
   * Whether `creation` is in the past of `parents`. The walk goes no lower than the
   * creation's clock time and stops at any entry already known to reach it, so updating a
   * record costs about the number of entries written since it was last written.
   */
  #reaches (parents: readonly string[], creation: Creation): boolean {
    const visited = new Set<string>()
    const stack = [...parents]
    while (stack.length > 0) {
      const hash = stack.pop() as string
      if (hash === creation.hash || creation.reachedFrom.has(hash)) return true
      if (visited.has(hash)) continue
      visited.add(hash)
      const facts = this.#facts.get(hash)
      if (facts === undefined || facts.time <= creation.time || facts.parents === undefined) continue
      // `next` is pushed last so it is walked first: the previous write is usually there.
      const [next, refs] = [facts.parents.slice(0, facts.nextCount), facts.parents.slice(facts.nextCount)]
      stack.push(...refs, ...next)
    }
    return false
  }
}
