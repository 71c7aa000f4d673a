/**
 * The verdict on an entry, from the entry and its causal past alone.
 *
 * Before judging an entry, every entry it links to (`next` and `refs`, recursively) is
 * judged first, loading what is missing. The access state an entry is judged against is
 * the fold of the access operations in that past; ownership of a record is read from the
 * entries on its key in that past. Nothing a replica happens to have seen elsewhere counts,
 * so every replica reaches the same verdict in any arrival order.
 *
 * This file walks the past and keeps what was decided; policy/links.ts checks an entry's shape,
 * prefetch.ts loads the past, rules.ts holds the policy, ownership.ts and schemas.ts the
 * indexes the policy reads.
 */
import { AclFold, type AclSet, AclSets, type AclState } from '../policy/acl-state.js'
import { type EntryLike, verifySigned } from '../identity/entry.js'
import { boundedText, EntryRejectedError, InvariantError, MAX_REPORTED_DETAIL, MAX_REPORTED_DID, type RejectionReason } from '../errors.js'
import { parseOperation } from '../policy/operations.js'
import type { Schema } from '@didbase/schemas'
import { badLinks, linksOf } from '../policy/links.js'
import { clockDenial, payloadSizeDenial } from '../policy/bounds.js'
import { OwnershipIndex } from './ownership.js'
import { prefetchPast } from './prefetch.js'
import { applyRules, type Facts, isDenial, type JudgeRules, type RuleContext } from './rules.js'
import type { Denial } from '../policy/denial.js'
import { SchemaCache } from './schemas.js'
import { KeyLog, type KeySources } from '../private/key-log.js'

export { type JudgeRules, schemaDenial } from './rules.js'
export type { Denial } from '../policy/denial.js'

export type LoadedEntry = EntryLike & { hash: string }

/** Loads entries of the past; told of each verdict, so that a refused entry fetched to be judged is not kept (controller/fetch.ts). */
export type Loader = ((hash: string) => Promise<LoadedEntry>) & { refused?: (hash: string) => void, accepted?: (hash: string) => void }

const MAX_REJECTED = 10_000

/** Why an entry was refused, as the judge keeps it. */
interface Refusal {
  did: string
  reason: RejectionReason
  detail: string
}
const MEMBERS_REFRESH = 1000

/** A local write `check` passed: who writes it, on which heads (sorted), and what the rules made of it. */
interface CheckedWrite {
  did: string
  signer: string
  heads: string[]
  facts: Facts
}

export class Judge {
  readonly address: string
  readonly #rules: JudgeRules
  readonly #load: Loader
  readonly #facts = new Map<string, Facts>()
  /**
   * Verdicts of refused entries, kept small: an error (with its captured stack) is made only
   * when one is thrown. Ten thousand errors held here took about 17 MB; these take a few.
   */
  readonly #rejected = new Map<string, Refusal>()
  readonly #sets = new AclSets()
  readonly #fold: AclFold
  readonly #schemas: SchemaCache
  readonly #context: RuleContext
  readonly #onProgress: (step: 'fetched' | 'judged') => void
  readonly #keys = new KeyLog()
  /** DIDs with at least one accepted entry here. */
  readonly #writers = new Set<string>()
  /** Every access operation accepted here, and the roles they leave (refreshed at most once a second). */
  #allAcl: AclSet
  #members: { state: AclState, set: AclSet, at: number } | undefined
  /**
   * Data writes `check` passed, by their payload object: this replica's entry for one of
   * them is accepted from these facts (`acceptChecked`), not judged a second time.
   */
  readonly #checked = new WeakMap<object, CheckedWrite>()

  /**
   * `onProgress` is told of each entry of the past fetched to be judged, and of each entry
   * judged (progress reports, and telling a slow judgement from a stalled one).
   */
  constructor (address: string, rules: JudgeRules, load: Loader, onProgress: (step: 'fetched' | 'judged') => void = () => {}) {
    this.address = address
    this.#rules = rules
    this.#load = load
    this.#onProgress = onProgress
    this.#fold = new AclFold(rules, (hash) => {
      const op = this.#facts.get(hash)?.aclOp
      if (op === undefined) throw new InvariantError(`access operation ${hash} has not been judged`)
      return op
    })
    this.#schemas = new SchemaCache(rules.loadSchema)
    this.#allAcl = this.#sets.empty
    this.#context = {
      address,
      rules,
      fold: this.#fold,
      sets: this.#sets,
      schemas: this.#schemas,
      ownership: new OwnershipIndex((hash) => this.#facts.get(hash)),
      aclOp: (hash) => this.#facts.get(hash)?.aclOp
    }
  }

  /** Accept or throw `EntryRejectedError`. Judges (and loads) the entry's past first. */
  async judge (entry: LoadedEntry): Promise<void> {
    // Check the signature before fetching anything it links to: an unsigned entry that
    // names blocks no one has must not hold the database's queue.
    if (!this.#known(entry.hash)) {
      try {
        await verifySigned(entry)
      } catch (err) {
        if (!(err instanceof EntryRejectedError)) throw err
        this.#reject(entry.hash, err.did, { reason: err.reason, detail: err.detail }, entry)
        throw err
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
    const rejected = this.#refusal(entry.hash)
    if (rejected !== undefined) throw rejected
  }

  /** The refusal of `hash`, as an error to throw; undefined when it was not refused. */
  #refusal (hash: string): EntryRejectedError | undefined {
    const r = this.#rejected.get(hash)
    return r === undefined ? undefined : new EntryRejectedError(hash, r.did, r.reason, r.detail)
  }

  /** Private databases: the key shares and chain links accepted here, for members to open. */
  get keys (): KeySources {
    return this.#keys
  }

  /** Whether `did` has written an entry this replica accepted (it is no stranger here). */
  hasWritten (did: string): boolean {
    return this.#writers.has(did)
  }

  /**
   * Whether `did` holds a role after every access operation accepted here (a revoked member
   * does not), speaking through `signer` (its own key, or a key it registered and has not taken
   * back): who skips the strangers' queue. Not a verdict, so it may lag a second behind.
   */
  isMember (did: string, signer: string = did, options: { named?: boolean } = {}): boolean {
    const now = Date.now()
    if (this.#members === undefined || (this.#members.set !== this.#allAcl && now - this.#members.at > MEMBERS_REFRESH)) {
      this.#members = { state: this.#fold.stateOf(this.#allAcl), set: this.#allAcl, at: now }
    }
    const { state } = this.#members
    // `named`: a role given to this DID, not the writer role everyone holds where '*' may write.
    const member = state.admins.has(did) || state.writers.has(did) || (options.named !== true && state.writers.has('*')) || state.readers.has(did)
    // A key that is not the DID's own speaks for it only once registered, and until taken back.
    return member && (signer === did || (state.sessions.has(`${did} ${signer}`) && !state.revokedDevices.has(`${did} ${signer}`)))
  }

  /** Whether `did` is an admin after every access operation accepted here (as `isMember`, it may lag a second). */
  isAdmin (did: string): boolean {
    this.isMember(did)
    return this.#members?.state.admins.has(did) ?? false
  }

  /** The schema a new entry linking to `heads` must match. */
  async schemaAt (heads: readonly string[]): Promise<Schema | undefined> {
    const state = await this.stateAt(heads)
    return state.schema === undefined ? this.#rules.schema : this.#schemas.get(state.schema)
  }

  /** The access state a new entry linking to `heads` would be judged against. */
  async stateAt (heads: readonly string[]): Promise<AclState> {
    return this.#fold.stateOf(await this.#aclAt(heads))
  }

  /** Why a new entry by `did` (signed by `signer`, a key `did` delegated to, if not itself) with `payload`, linking to `heads`, would be refused; or undefined. */
  async check (did: string, payload: unknown, heads: readonly string[], signer = did): Promise<Denial | undefined> {
    const op = parseOperation(payload)
    if (typeof op === 'string') return { reason: 'invalid-operation', detail: op }
    const parents = [...new Set(heads)]
    const acl = await this.#aclAt(parents)
    const time = Math.max(0, ...parents.map((h) => this.#facts.get(h)?.time ?? 0)) + 1
    const tooLarge = this.#sizeDenial(payload, op.kind === 'acl')
    if (tooLarge !== undefined) return tooLarge
    const result = await applyRules(this.#context, { hash: '(new entry)', did, signer, time, parents, nextCount: parents.length, op, pastAcl: acl })
    if (isDenial(result)) return result
    // An access operation's facts name its hash, so only data writes are remembered.
    if (result.aclOp === undefined && typeof payload === 'object' && payload !== null) this.#checked.set(payload, { did, signer, heads: [...parents].sort(), facts: result })
    return undefined
  }

  /**
   * Accept this replica's own new entry from the facts `check` found for its very payload,
   * rather than judging it again: same DID and signer, linking to exactly the heads it was
   * checked on, at the clock time `check` gave it. The rules read only an entry and its
   * past, and a local entry's refs lie in the past of its heads, so the verdict and facts
   * are those a judgement would reach. False (judge it) when anything differs.
   */
  acceptChecked (entry: LoadedEntry, signer: string): boolean {
    const checked = this.#checked.get(entry.payload as object)
    if (checked === undefined) return false
    this.#checked.delete(entry.payload as object)
    const next = [...new Set(entry.next)].sort()
    const same = entry.id === this.address && entry.identity === checked.did && signer === checked.signer &&
      entry.clock.time === checked.facts.time && next.join() === checked.heads.join()
    if (!same || this.#known(entry.hash) || badLinks(entry, (h) => this.#known(h)) !== undefined) return false
    const { facts } = checked
    const parents = facts.parents === undefined ? {} : { parents: [...new Set([...entry.next, ...entry.refs])], nextCount: next.length }
    this.#accept(entry.hash, checked.did, { ...facts, ...parents })
    return true
  }

  async #aclAt (heads: readonly string[]): Promise<AclSet> {
    await this.#settle(heads.map((hash) => ({ hash })))
    let acl = this.#sets.empty
    for (const hash of heads) {
      const facts = this.#facts.get(hash)
      if (facts === undefined) throw this.#refusal(hash) ?? new InvariantError(`entry ${hash} could not be judged`)
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
    const failed = await prefetchPast(roots.flatMap((r) => (r.entry === undefined ? [r.hash] : linksOf(r.entry, known))), this.#load, known, () => { this.#onProgress('fetched') })
    if (failed !== undefined) throw notLoaded(failed.hash, failed.error)
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
          throw notLoaded(top.hash, cause)
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

  /** Rules version 2 bounds every payload's size; databases made before keep no bound (docs/security.md). */
  #sizeDenial (payload: unknown, access: boolean): Denial | undefined {
    if ((this.#rules.version ?? 1) < 2) return undefined
    const detail = payloadSizeDenial(payload, access)
    return detail === undefined ? undefined : { reason: 'entry-too-large', detail }
  }

  /**
   * Remember a refusal. The block of a refused entry of this database, fetched to judge it, is
   * let go; an entry that claims another database (or is not one) may be a block something
   * else on this node holds, so it stays.
   */
  #reject (hash: string, did: string, denial: Denial, entry?: { id?: unknown }): void {
    if (this.#rejected.size >= MAX_REJECTED) this.#rejected.delete(this.#rejected.keys().next().value as string)
    // Bounded: the DID and what the detail quotes are the author's to choose (errors.ts).
    this.#rejected.set(hash, { did: boundedText(did, MAX_REPORTED_DID), reason: denial.reason, detail: boundedText(denial.detail, MAX_REPORTED_DETAIL) })
    if (entry?.id === this.address) this.#load.refused?.(hash)
  }

  async #decide (hash: string, entry: LoadedEntry): Promise<void> {
    this.#onProgress('judged')
    let did: string
    let signer: string
    try {
      ({ did, signer } = await verifySigned(entry))
    } catch (err) {
      if (err instanceof EntryRejectedError) {
        this.#reject(hash, err.did, { reason: err.reason, detail: err.detail }, entry)
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
      this.#reject(hash, did, { reason: 'malformed-entry', detail: malformed }, entry)
      return
    }
    const parents = [...new Set([...entry.next, ...entry.refs])]
    let acl = this.#sets.empty
    let maxTime = 0
    for (const parent of parents) {
      const facts = this.#facts.get(parent)
      if (facts === undefined) {
        const why = this.#rejected.get(parent)
        this.#reject(hash, did, { reason: 'rejected-past', detail: `it links to ${parent}, which was rejected${why ? ` (${why.reason})` : ''}` }, entry)
        return
      }
      acl = this.#sets.union(acl, facts.acl)
      maxTime = Math.max(maxTime, facts.time)
    }
    const badClock = clockDenial(entry.clock.time, maxTime)
    if (badClock !== undefined) {
      this.#reject(hash, did, { reason: 'invalid-clock', detail: badClock }, entry)
      return
    }
    const op = parseOperation(entry.payload)
    if (typeof op === 'string') {
      this.#reject(hash, did, { reason: 'invalid-operation', detail: op }, entry)
      return
    }
    const tooLarge = this.#sizeDenial(entry.payload, op.kind === 'acl')
    if (tooLarge !== undefined) {
      this.#reject(hash, did, tooLarge, entry)
      return
    }
    const result = await applyRules(this.#context, { hash, did, signer, time: entry.clock.time, parents, nextCount: new Set(entry.next).size, op, pastAcl: acl })
    if (this.#known(hash)) return
    if (isDenial(result)) {
      this.#reject(hash, did, result, entry)
      return
    }
    this.#accept(hash, did, result)
  }

  /** Remember `hash` as accepted, with its facts. */
  #accept (hash: string, did: string, result: Facts): void {
    if (result.carried !== undefined) {
      this.#keys.record(hash, result.carried)
      delete result.carried
    }
    this.#facts.set(hash, result)
    if (result.aclOp !== undefined) this.#allAcl = this.#sets.union(this.#allAcl, result.acl)
    this.#load.accepted?.(hash)
    this.#writers.add(did)
    const records = result.records ?? []
    delete result.records
    for (const { key, reached } of records) this.#context.ownership.accepted(hash, did, result.time, key, reached)
  }
}

/** An entry of the past that could not be loaded: not a verdict (it may arrive later), so nothing is remembered. */
function notLoaded (hash: string, cause: unknown): EntryRejectedError {
  return new EntryRejectedError(hash, '(unknown)', 'unavailable', `entry ${hash} in the causal past could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`)
}
