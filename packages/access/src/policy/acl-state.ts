/**
 * The access state of a database as seen from one point of its history: a fold over the
 * access operations in a causal past.
 *
 * - Roles are an observed-remove set: a revoke removes exactly the grants its author had
 *   seen, so concurrent grants survive. Revoking a role a DID got from an invite removes
 *   every redemption of that invite, on any branch.
 * - The admins named in the manifest (founders) alone grant and revoke the admin role, and
 *   cannot be revoked. So a revocation of an admin is never itself undone, and it is final:
 *   that admin's operations the founder had not seen (made on a branch concurrent with the
 *   revocation) have no effect, nor do redemptions of invites it issued there.
 * - An invite can be redeemed once in any causal past. A revocation of a DID voids every
 *   invite issued to it before the revocation's time, redeemed on any branch or not yet.
 * - Private databases: the current key epochs are the latest rotations (none in another's
 *   past; the genesis epoch until the first), and who holds each key is read off the shares.
 * The result depends only on the set folded, never on the order operations arrived in.
 */
import type { Role } from './operations.js'
import { GENESIS_EPOCH } from './share-shape.js'
import type { Delegation } from '../delegation/chain.js'
import QuickLRU from 'quick-lru'

/** A set of access-operation entry hashes (sorted, unique). Equal sets are usually the same object. */
export interface AclSet {
  readonly ops: readonly string[]
}

/** What an accepted access operation does. */
export type AclEffect =
  /** `issued`: when the redeemed invite was issued (`exactly`: to the ms); a revocation of `did` after it voids the grant. */
  | { type: 'grant', role: Role, did: string, invite?: string, issued?: number, exactly?: boolean }
  | { type: 'revoke', role: Role, did: string }
  | { type: 'cancel-invite', id: string }
  | { type: 'schema', cid: string }

/** Key shares an accepted operation delivers: the epoch and the DIDs it is wrapped for. */
export interface DeliveredKey {
  epoch: string
  to: readonly string[]
}

export interface AclOpFacts {
  hash: string
  /** What it does to roles, invites or the schema; undefined for key operations alone (`rotate-key`, `share`). */
  effect?: AclEffect
  /** It starts a key epoch (a revocation or `rotate-key` in a private database); the epoch is its hash. */
  rotation?: true
  /** Key shares it delivers (a rotation's own key included). */
  keys?: readonly DeliveredKey[]
  /** A delegated key's registration: its delegation, checked. */
  session?: Delegation
  /** A user took back a key it delegated to: `${user} ${key}`. */
  revokedDevice?: string
  /** The admin on whose authority it acts: its signer, or the issuer of a redeemed invite. */
  actor: string
  at: number
  /** Access operations in this operation's own causal past. */
  past: AclSet
}

export interface AclState {
  readonly admins: ReadonlySet<string>
  /** DIDs granted the writer role, or `'*'`. Admins may write too. */
  readonly writers: ReadonlySet<string>
  readonly cancelledInvites: ReadonlySet<string>
  readonly redeemedInvites: ReadonlySet<string>
  /** CID of the schema a `set-schema` put in force; undefined: the one the database was created with. */
  readonly schema?: string
  /** DIDs granted the reader role (private databases). Admins and writers read too. */
  readonly readers: ReadonlySet<string>
  /** Private databases: the epochs new values must be sealed under, sorted (`['genesis']` before any rotation). */
  readonly epochs: readonly string[]
  /** Private databases: for each current epoch, the DIDs a share of its key was wrapped for. */
  readonly keyHolders: ReadonlyMap<string, ReadonlySet<string>>
  /** Delegated keys registered in this past, as `${user} ${key}`, with what their delegation proves. */
  readonly sessions: ReadonlyMap<string, Delegation>
  /** Keys their users took back, as `${user} ${key}`. */
  readonly revokedDevices: ReadonlySet<string>
  /** For each DID revoked from any role, the latest time (`at`) of a revocation: it voids the invites issued before. */
  readonly revokedAt: ReadonlyMap<string, number>
}

export interface Genesis {
  /** The rules version (`RULES_VERSION`); 1 for databases made before versions. */
  version?: number
  admins: readonly string[]
  writers: readonly string[]
  /** Readers a private database starts with. */
  readers?: readonly string[]
}

/** Everyone who may read: admins, writers and readers (private databases name no `'*'`). */
export function membersOf (state: { admins: Iterable<string>, writers: Iterable<string>, readers: Iterable<string> }): string[] {
  return [...new Set([...state.admins, ...state.writers, ...state.readers])].sort()
}

/** Keys taken back by their users: named by a device revocation, or delegated through one that was. */
export function revokedKeys (state: Pick<AclState, 'sessions' | 'revokedDevices'>): Set<string> {
  const keys = new Set([...state.revokedDevices].map((id) => id.slice(id.indexOf(' ') + 1)))
  for (const delegation of state.sessions.values()) {
    if ((delegation.keys ?? []).some((key) => state.revokedDevices.has(`${delegation.issuer} ${key}`))) keys.add(delegation.audience)
  }
  return keys
}

/**
 * Whether a revocation at `revokedAt` voids an invite issued at `issued` (rules version 2):
 * one issued before it. Invites from before this version say when in whole seconds only
 * (`iat`): those are voided by a revocation of a later second, so an admin that revoked and
 * invited again within one second is not undone.
 */
export function voids (revokedAt: number, issued: number, exactly = false): boolean {
  return exactly ? revokedAt >= issued : Math.floor(revokedAt / 1000) > Math.floor(issued / 1000)
}

const GENESIS_TAG = 'genesis'

interface Internal {
  /** Which entry registered each session (`outlasts` breaks ties by it). */
  sessionHashes: ReadonlyMap<string, string>
}

/** Roles from the grants that hold them. */
function rolesOf (tags: ReadonlyMap<string, ReadonlySet<string>>): Pick<AclState, 'admins' | 'writers' | 'readers'> {
  const roles = { admin: new Set<string>(), writer: new Set<string>(), reader: new Set<string>() }
  for (const [key, held] of tags) {
    if (held.size === 0) continue
    const [role, did] = key.split(' ') as [Role, string]
    roles[role].add(did)
  }
  return { admins: roles.admin, writers: roles.writer, readers: roles.reader }
}

/** Of two registrations of one key, the one that lasts longest counts; of equal ones, the smaller entry hash. */
function outlasts (a: Delegation, aHash: string, b: Delegation, bHash: string): boolean {
  return a.expiresAt > b.expiresAt || (a.expiresAt === b.expiresAt && aHash < bHash)
}
const CACHED_STATES = 128
const CHECKPOINT = 64

function contains (set: AclSet, hash: string): boolean {
  let lo = 0
  let hi = set.ops.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const value = set.ops[mid] as string
    if (value === hash) return true
    if (value < hash) lo = mid + 1
    else hi = mid - 1
  }
  return false
}

/**
 * A set that is another plus one access operation whose own past is that other set: what
 * every accepted access operation leaves. Kept as the link, not a copy, so a history of n
 * operations holds n links rather than n sets of up to n hashes; listed only when asked.
 */
class ExtendedSet implements AclSet {
  readonly base: AclSet
  readonly added: string
  readonly size: number
  readonly #sets: AclSets

  constructor (base: AclSet, added: string, size: number, sets: AclSets) {
    this.base = base
    this.added = added
    this.size = size
    this.#sets = sets
  }

  get ops (): readonly string[] {
    return this.#sets.list(this)
  }
}

/** How many listed extended sets are kept, how many steps `union` looks back for one set in another, and how many interned sets are kept. */
const LISTED = 64
const ANCESTRY_STEPS = 64
const INTERNED = 4096

/** Makes sets, sharing objects for equal sets so that the states folded from them are cached once. */
export class AclSets {
  readonly empty: AclSet = { ops: [] }
  // Keyed by a digest of the members, not their concatenation: thousands of access
  // operations would otherwise keep megabytes of keys alive. Bounded: sharing is only a cache.
  readonly #interned = new QuickLRU<string, AclSet[]>({ maxSize: INTERNED })
  readonly #listed = new QuickLRU<ExtendedSet, readonly string[]>({ maxSize: LISTED })

  #of (ops: string[]): AclSet {
    let h = 0x811c9dc5
    for (const op of ops) {
      for (let i = 0; i < op.length; i++) h = Math.imul(h ^ op.charCodeAt(i), 0x01000193)
    }
    const key = `${ops.length}:${h >>> 0}`
    const bucket = this.#interned.get(key) ?? []
    const same = bucket.find((s) => s.ops.length === ops.length && s.ops.every((op, i) => op === ops[i]))
    if (same !== undefined) return same
    const set = { ops }
    bucket.push(set)
    this.#interned.set(key, bucket)
    return set
  }

  /** The sorted hashes of an extended set: its links back to a listed set, then sorted once. */
  list (set: ExtendedSet): readonly string[] {
    const listed = this.#listed.get(set)
    if (listed !== undefined) return listed
    const added: string[] = []
    let at: AclSet = set
    let base: readonly string[] | undefined
    while (at instanceof ExtendedSet) {
      base = this.#listed.get(at)
      if (base !== undefined) break
      added.push(at.added)
      at = at.base
    }
    const ops = [...(base ?? at.ops), ...added].sort()
    this.#listed.set(set, ops)
    return ops
  }

  /** Whether `inner` is `outer` or one of the sets `outer` extends, within a few steps. */
  #extends (outer: AclSet, inner: AclSet): boolean {
    let at: AclSet = outer
    for (let i = 0; i <= ANCESTRY_STEPS; i++) {
      if (at === inner) return true
      if (!(at instanceof ExtendedSet)) return false
      at = at.base
    }
    return false
  }

  union (a: AclSet, b: AclSet): AclSet {
    if (a === b || b === this.empty || this.#extends(a, b)) return a
    if (a === this.empty || this.#extends(b, a)) return b
    if (b.ops.length === 0) return a
    if (a.ops.length === 0) return b
    return this.#of([...new Set([...a.ops, ...b.ops])].sort())
  }

  /** `a` and one access operation whose own past is exactly `a`. */
  with (a: AclSet, hash: string): AclSet {
    return new ExtendedSet(a, hash, (a instanceof ExtendedSet ? a.size : a.ops.length) + 1, this)
  }
}

export class AclFold {
  readonly #genesis: Genesis
  readonly #genesisAdmins: ReadonlySet<string>
  readonly #lookup: (hash: string) => AclOpFacts
  /** Folds are pure: a state is kept while recently used, and folded again if needed later. */
  readonly #states = new QuickLRU<AclSet, AclState>({ maxSize: CACHED_STATES })
  /** States kept for good, one every CHECKPOINT operations of a history (a WeakMap: a set no entry holds goes). */
  readonly #checkpoints = new WeakMap<AclSet, AclState>()
  /** What extending a state needs beyond the state: which entry registered each session. */
  readonly #internal = new WeakMap<AclState, Internal>()

  constructor (genesis: Genesis, lookup: (hash: string) => AclOpFacts) {
    this.#genesis = genesis
    this.#genesisAdmins = new Set(genesis.admins)
    this.#lookup = lookup
  }

  isGenesisAdmin (did: string): boolean {
    return this.#genesisAdmins.has(did)
  }

  /**
   * The state `set` leaves. A set that extends another by one operation (what each accepted
   * access operation leaves) is that set's state with the operation applied: the operation
   * has every other in its past, so it voids nothing and nothing voids it, and the result
   * equals a fold of the whole set. Other sets (unions, at merges) are folded whole.
   */
  stateOf (set: AclSet): AclState {
    const cached = this.#states.get(set) ?? this.#checkpoints.get(set)
    if (cached !== undefined) return cached
    const steps: ExtendedSet[] = []
    let at: AclSet = set
    while (at instanceof ExtendedSet && !this.#states.has(at) && !this.#checkpoints.has(at)) {
      steps.push(at)
      at = at.base
    }
    let state = this.#states.get(at) ?? this.#checkpoints.get(at)
    if (state === undefined) {
      state = this.#fold(at)
      this.#states.set(at, state)
    }
    for (let i = steps.length - 1; i >= 0; i--) {
      const step = steps[i] as ExtendedSet
      state = this.#extend(state, this.#lookup(step.added))
      this.#states.set(step, state)
      // Kept for good every CHECKPOINT operations: an entry linking far back folds from the
      // nearest one, never from the start (a stranger's old link costs a few steps).
      if (step.size % CHECKPOINT === 0) this.#checkpoints.set(step, state)
    }
    return state
  }

  /** `state` after `op`, an operation whose past is exactly the set `state` was folded from. */
  #extend (state: AclState, op: AclOpFacts): AclState {
    const before = this.#internal.get(state) as Internal
    let sessionHashes = before.sessionHashes
    const next = {
      admins: state.admins,
      writers: state.writers,
      readers: state.readers,
      cancelledInvites: state.cancelledInvites,
      redeemedInvites: state.redeemedInvites,
      ...(state.schema !== undefined ? { schema: state.schema } : {}),
      epochs: state.epochs,
      keyHolders: state.keyHolders,
      sessions: state.sessions,
      revokedDevices: state.revokedDevices,
      revokedAt: state.revokedAt
    }
    const roleSets = { admin: 'admins', writer: 'writers', reader: 'readers' } as const
    const setRole = (role: Role, did: string, held: boolean): void => {
      const field = roleSets[role]
      if (next[field].has(did) === held) return
      const changed = new Set(next[field])
      if (held) changed.add(did)
      else changed.delete(did)
      next[field] = changed
    }
    const effect = op.effect
    if (effect?.type === 'grant') {
      if (effect.invite !== undefined) next.redeemedInvites = new Set([...state.redeemedInvites, effect.invite])
      const revoked = state.revokedAt.get(effect.did)
      const voided = (this.#genesis.version ?? 1) >= 2 && effect.invite !== undefined && revoked !== undefined && voids(revoked, effect.issued ?? 0, effect.exactly)
      if (!voided) {
        setRole(effect.role, effect.did, true)
      }
    } else if (effect?.type === 'revoke') {
      // Every grant of the role is in the revocation's past: none is left.
      setRole(effect.role, effect.did, false)
      next.revokedAt = new Map(state.revokedAt).set(effect.did, Math.max(state.revokedAt.get(effect.did) ?? 0, op.at))
    } else if (effect?.type === 'cancel-invite') {
      next.cancelledInvites = new Set([...state.cancelledInvites, effect.id])
    } else if (effect?.type === 'schema') {
      next.schema = effect.cid
    }
    if (op.rotation === true) {
      next.epochs = [op.hash]
      next.keyHolders = new Map([[op.hash, new Set<string>()]])
    }
    if (op.keys !== undefined && op.keys.length > 0) {
      const holders = new Map(next.keyHolders)
      for (const key of op.keys) {
        const held = holders.get(key.epoch)
        if (held !== undefined) holders.set(key.epoch, new Set([...held, ...key.to]))
      }
      next.keyHolders = holders
    }
    if (op.session !== undefined) {
      const id = `${op.session.issuer} ${op.session.audience}`
      const held = state.sessions.get(id)
      if (held === undefined || outlasts(op.session, op.hash, held, before.sessionHashes.get(id) as string)) {
        next.sessions = new Map(state.sessions).set(id, op.session)
        sessionHashes = new Map(sessionHashes).set(id, op.hash)
      }
    }
    if (op.revokedDevice !== undefined) next.revokedDevices = new Set([...state.revokedDevices, op.revokedDevice])
    this.#internal.set(next, { sessionHashes })
    return next
  }

  #fold (set: AclSet): AclState {
    const ops = set.ops.map((hash) => this.#lookup(hash))
    // A revoked admin's operations that its revoker had not seen, and that had not seen the
    // revocation either, are void. Only founders demote, and founders are never void, so
    // every demotion counts and no voiding depends on another.
    const demotions = ops.filter((op) => op.effect?.type === 'revoke' && op.effect.role === 'admin')
    // Sessions and device revocations act on their user's own authority, not an admin's: never
    // void. A delegated key's redeem grants on its issuer's: that grant may be (its session stays).
    const ownAuthority = (op: AclOpFacts): boolean => op.effect === undefined && (op.session !== undefined || op.revokedDevice !== undefined)
    const isVoid = (op: AclOpFacts): boolean => !ownAuthority(op) && !this.#genesisAdmins.has(op.actor) && demotions.some((r) =>
      r !== op && r.effect?.type === 'revoke' && r.effect.did === op.actor && !contains(r.past, op.hash) && !contains(op.past, r.hash))
    const live = ops.filter((op) => !isVoid(op))

    const tags = new Map<string, Set<string>>()
    const tag = (role: Role, did: string, t: string): void => {
      const key = `${role} ${did}`
      const held = tags.get(key) ?? new Set<string>()
      held.add(t)
      tags.set(key, held)
    }
    for (const did of this.#genesis.admins) tag('admin', did, GENESIS_TAG)
    for (const did of this.#genesis.writers) tag('writer', did, GENESIS_TAG)
    for (const did of this.#genesis.readers ?? []) tag('reader', did, GENESIS_TAG)
    const cancelled = new Set<string>()
    const redeemed = new Set<string>()
    /** Grant tags of every redemption of each invite, so one revocation removes them all. */
    const redemptions = new Map<string, string[]>()
    for (const op of live) {
      if (op.effect === undefined) continue
      if (op.effect.type === 'grant') {
        tag(op.effect.role, op.effect.did, op.hash)
        if (op.effect.invite !== undefined) {
          redeemed.add(op.effect.invite)
          redemptions.set(op.effect.invite, [...(redemptions.get(op.effect.invite) ?? []), op.hash])
        }
      } else if (op.effect.type === 'cancel-invite') {
        cancelled.add(op.effect.id)
      }
    }
    const revokedAt = new Map<string, number>()
    for (const revoke of live) {
      if (revoke.effect?.type !== 'revoke') continue
      const { role, did } = revoke.effect
      revokedAt.set(did, Math.max(revokedAt.get(did) ?? 0, revoke.at))
      const held = tags.get(`${role} ${did}`)
      if (held === undefined) continue
      // Remove what the revoker had seen: the genesis grant and grants in its own past.
      if (this.#genesisHolders(role).includes(did)) held.delete(GENESIS_TAG)
      for (const hash of revoke.past.ops) {
        const seen = this.#lookup(hash).effect
        if (seen?.type !== 'grant' || seen.role !== role || seen.did !== did) continue
        held.delete(hash)
        // The same invite redeemed again on a branch the revoker had not seen goes too.
        for (const twin of seen.invite === undefined ? [] : redemptions.get(seen.invite) ?? []) held.delete(twin)
      }
    }
    // A revocation voids the invites its DID held then: a redemption of one issued before it,
    // that it had not seen (concurrent, or in its future), grants nothing, in any role.
    for (const op of (this.#genesis.version ?? 1) >= 2 ? live : []) {
      const effect = op.effect
      if (effect?.type !== 'grant' || effect.invite === undefined || !revokedAt.has(effect.did)) continue
      const voided = live.some((r) => r.effect?.type === 'revoke' && r.effect.did === effect.did && voids(r.at, effect.issued ?? 0, effect.exactly) && !contains(r.past, op.hash))
      if (voided) tags.get(`${effect.role} ${effect.did}`)?.delete(op.hash)
    }
    // The schema in force: from the latest schema change, i.e. one no other has in its past;
    // of concurrent ones (founders racing each other), the smallest entry hash wins.
    const changes = live.filter((op) => op.effect?.type === 'schema')
    const latest = changes.filter((op) => !changes.some((other) => other !== op && contains(other.past, op.hash)))
      .sort((a, b) => (a.hash < b.hash ? -1 : 1))[0]
    const roles = rolesOf(tags)
    const schema = latest?.effect?.type === 'schema' ? { schema: latest.effect.cid } : {}
    const sessions = new Map<string, Delegation>()
    const sessionHashes = new Map<string, string>()
    const revokedDevices = new Set<string>()
    for (const op of ops) {
      // A key registered again for its user (a renewed delegation): the one that lasts longest counts.
      if (op.session !== undefined) {
        const id = `${op.session.issuer} ${op.session.audience}`
        const held = sessions.get(id)
        if (held === undefined || outlasts(op.session, op.hash, held, sessionHashes.get(id) as string)) {
          sessions.set(id, op.session)
          sessionHashes.set(id, op.hash)
        }
      }
      if (op.revokedDevice !== undefined) revokedDevices.add(op.revokedDevice)
    }
    const state = { ...roles, cancelledInvites: cancelled, redeemedInvites: redeemed, ...schema, ...this.#keys(ops, live), sessions, revokedDevices, revokedAt }
    this.#internal.set(state, { sessionHashes })
    return state
  }

  #genesisHolders (role: Role): readonly string[] {
    return role === 'admin' ? this.#genesis.admins : role === 'writer' ? this.#genesis.writers : this.#genesis.readers ?? []
  }

  /**
   * The current epochs: the rotations no other rotation has in its past (a void one does
   * not count). Who holds their keys: everyone a share of them was wrapped for, on any branch.
   */
  #keys (ops: readonly AclOpFacts[], live: readonly AclOpFacts[]): Pick<AclState, 'epochs' | 'keyHolders'> {
    const rotations = live.filter((op) => op.rotation === true)
    const latest = rotations.filter((op) => !rotations.some((other) => other !== op && contains(other.past, op.hash))).map((op) => op.hash).sort()
    const epochs = latest.length === 0 ? [GENESIS_EPOCH] : latest
    const keyHolders = new Map<string, Set<string>>(epochs.map((e) => [e, new Set(e === GENESIS_EPOCH ? membersOf({ admins: this.#genesis.admins, writers: this.#genesis.writers, readers: this.#genesis.readers ?? [] }) : [])]))
    for (const op of ops) {
      for (const key of op.keys ?? []) {
        const holders = keyHolders.get(key.epoch)
        for (const did of holders === undefined ? [] : key.to) holders?.add(did)
      }
    }
    return { epochs, keyHolders }
  }
}
