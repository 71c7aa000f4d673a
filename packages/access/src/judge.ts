/**
 * The verdict on an entry, from the entry and its causal past alone.
 *
 * Before judging an entry, every entry it links to (`next` and `refs`, recursively) is
 * judged first, loading what is missing. The access state an entry is judged against is
 * the fold of the access operations in that past; ownership of a record is read from the
 * entries on its key in that past. Nothing a replica happens to have seen elsewhere counts,
 * so every replica reaches the same verdict in any arrival order.
 */
import { type AclEffect, AclFold, type AclOpFacts, type AclSet, AclSets, type AclState, type Genesis } from './acl-state.js'
import { type EntryLike, verifyEntry } from './entry.js'
import { EntryRejectedError, type RejectionReason } from './errors.js'
import { verifyInvite } from './invite.js'
import { type Operation, parseOperation } from './operations.js'

export interface JudgeRules extends Genesis {
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
  owners?: ReadonlySet<string>
  /** Kept when ownership is on: the search for a key's owners walks them. */
  parents?: readonly string[]
}

interface Candidate {
  hash: string
  did: string
  time: number
  parents: string[]
  op: Operation
}

export interface Denial {
  reason: RejectionReason
  detail: string
  cause?: unknown
}

const MAX_REJECTED = 10_000

function isDenial (value: Facts | Denial): value is Denial {
  return (value as Denial).reason !== undefined
}

export class Judge {
  readonly address: string
  readonly #rules: JudgeRules
  readonly #load: (hash: string) => Promise<LoadedEntry>
  readonly #facts = new Map<string, Facts>()
  readonly #rejected = new Map<string, EntryRejectedError>()
  /** For each record key: the earliest clock time of an accepted entry on it. */
  readonly #keyTimes = new Map<string, number>()
  readonly #sets = new AclSets()
  readonly #fold: AclFold

  constructor (address: string, rules: JudgeRules, load: (hash: string) => Promise<LoadedEntry>) {
    this.address = address
    this.#rules = rules
    this.#load = load
    this.#fold = new AclFold(rules, (hash) => {
      const op = this.#facts.get(hash)?.aclOp
      if (op === undefined) throw new Error(`access operation ${hash} has not been judged`)
      return op
    })
  }

  /** Accept or throw `EntryRejectedError`. Judges (and loads) the entry's past first. */
  async judge (entry: LoadedEntry): Promise<void> {
    await this.#settle([{ hash: entry.hash, entry }])
    const rejected = this.#rejected.get(entry.hash)
    if (rejected !== undefined) throw rejected
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
    const result = await this.#rule({ hash: '(new entry)', did, time, parents, op }, acl)
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
      const links = Array.isArray(entry.next) && Array.isArray(entry.refs) ? [...entry.next, ...entry.refs] : []
      const missing = links.filter((h) => typeof h === 'string' && !this.#known(h))
      if (missing.length > 0 && !top.expanded) {
        top.expanded = true
        for (const hash of missing) stack.push({ hash, expanded: false })
        continue
      }
      stack.pop()
      await this.#decide(top.hash, entry)
    }
  }

  #reject (hash: string, did: string, denial: Denial): void {
    if (this.#rejected.size >= MAX_REJECTED) this.#rejected.delete(this.#rejected.keys().next().value as string)
    this.#rejected.set(hash, new EntryRejectedError(hash, did, denial.reason, denial.detail))
  }

  async #decide (hash: string, entry: LoadedEntry): Promise<void> {
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
    const result = await this.#rule({ hash, did, time: entry.clock.time, parents, op }, acl)
    if (this.#known(hash)) return
    if (isDenial(result)) {
      this.#reject(hash, did, result)
      return
    }
    this.#facts.set(hash, result)
    if (result.key !== undefined) {
      const earliest = this.#keyTimes.get(result.key)
      if (earliest === undefined || result.time < earliest) this.#keyTimes.set(result.key, result.time)
    }
  }

  /** The policy itself: may `c` do what it asks, given the access operations in its past? */
  async #rule (c: Candidate, pastAcl: AclSet): Promise<Facts | Denial> {
    const state = this.#fold.stateOf(pastAcl)
    const isAdmin = state.admins.has(c.did)
    const base = { time: c.time, did: c.did, ...(this.#rules.ownership ? { parents: c.parents } : {}) }
    if (c.op.kind === 'acl') {
      const acl = c.op.acl
      if (!this.#rules.mutable) return { reason: 'invalid-operation', detail: 'this database has a fixed set of writers; its access cannot change' }
      if (acl.at < state.latestAt) return { reason: 'invalid-clock', detail: `access operation time ${acl.at} is earlier than one it follows (${state.latestAt})` }
      let effect: AclEffect
      if (acl.action === 'redeem') {
        let claims: Awaited<ReturnType<typeof verifyInvite>>
        try {
          claims = await verifyInvite(acl.token, { address: this.address, audience: c.did, at: acl.at })
        } catch (err) {
          return { reason: (err as { reason?: RejectionReason }).reason ?? 'invalid-invite', detail: (err as Error).message, cause: err }
        }
        if (!state.admins.has(claims.issuer)) return { reason: 'invalid-invite', detail: `the invite's issuer ${claims.issuer} is not an admin of this database` }
        if (state.cancelledInvites.has(claims.id)) return { reason: 'invite-cancelled', detail: `invite ${claims.id} was cancelled by an admin` }
        effect = { type: 'grant', role: claims.role, did: c.did }
      } else {
        if (!isAdmin) return { reason: 'not-an-admin', detail: `only an admin may ${acl.action} (the signer is not an admin here)` }
        effect = acl.action === 'cancel-invite' ? { type: 'cancel-invite', id: acl.id } : { type: acl.action, role: acl.role, did: acl.did }
      }
      return { ...base, acl: this.#sets.with(pastAcl, c.hash), aclOp: { effect, at: acl.at, past: pastAcl } }
    }
    if (!isAdmin && !state.writers.has('*') && !state.writers.has(c.did)) {
      return { reason: 'not-a-writer', detail: 'the DID is not a writer of this database' }
    }
    if (!this.#rules.ownership || c.op.key === null) return { ...base, acl: pastAcl }
    const owners = this.#ownersInPast(c.parents, c.op.key)
    if (!isAdmin && owners !== undefined && !(owners.size === 1 && owners.has(c.did))) {
      const who = [...owners].join(' and ')
      return { reason: 'not-the-owner', detail: `record ${JSON.stringify(c.op.key)} belongs to ${who}${owners.size > 1 ? ' (created concurrently; only an admin may change it)' : ''}` }
    }
    return { ...base, acl: pastAcl, key: c.op.key, owners: owners ?? new Set([c.did]) }
  }

  /**
   * Creators of `key` in the past reachable from `parents`: the union of the owner sets of
   * the latest entries on the key there. Undefined when the key was never written there.
   * The walk stops at entries on the key and below the earliest time the key was written.
   */
  #ownersInPast (parents: readonly string[], key: string): ReadonlySet<string> | undefined {
    const earliest = this.#keyTimes.get(key)
    if (earliest === undefined) return undefined
    let owners: Set<string> | undefined
    const visited = new Set<string>()
    const stack = [...parents]
    while (stack.length > 0) {
      const hash = stack.pop() as string
      if (visited.has(hash)) continue
      visited.add(hash)
      const facts = this.#facts.get(hash)
      if (facts === undefined || facts.time < earliest) continue
      if (facts.key === key && facts.owners !== undefined) {
        owners ??= new Set()
        for (const o of facts.owners) owners.add(o)
        continue
      }
      if (facts.parents !== undefined) stack.push(...facts.parents)
    }
    return owners
  }
}
