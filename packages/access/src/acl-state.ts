/**
 * The access state of a database as seen from one point of its history: a fold over the
 * access operations in a causal past. The fold is an observed-remove set of role grants:
 * a revoke removes exactly the grants its author had seen, so concurrent grants survive
 * and the result does not depend on the order operations arrived in.
 */
import type { Role } from './operations.js'

/** A set of access-operation entry hashes, interned so equal sets are the same object. */
export interface AclSet {
  readonly ops: readonly string[]
}

/** What an accepted access operation did. */
export type AclEffect =
  | { type: 'grant', role: Role, did: string }
  | { type: 'revoke', role: Role, did: string }
  | { type: 'cancel-invite', id: string }

export interface AclOpFacts {
  effect: AclEffect
  at: number
  /** Access operations in this operation's own causal past. */
  past: AclSet
}

export interface AclState {
  readonly admins: ReadonlySet<string>
  /** DIDs granted the writer role, or `'*'`. Admins may write too. */
  readonly writers: ReadonlySet<string>
  readonly cancelledInvites: ReadonlySet<string>
  /** The latest `at` of the operations folded; a new operation may not be earlier. */
  readonly latestAt: number
}

export interface Genesis {
  admins: readonly string[]
  writers: readonly string[]
}

const GENESIS_TAG = 'genesis'

export class AclSets {
  readonly empty: AclSet = { ops: [] }
  readonly #interned = new Map<string, AclSet>([['', this.empty]])

  #of (ops: string[]): AclSet {
    const key = ops.join(',')
    let set = this.#interned.get(key)
    if (set === undefined) {
      set = { ops }
      this.#interned.set(key, set)
    }
    return set
  }

  union (a: AclSet, b: AclSet): AclSet {
    if (a === b || b.ops.length === 0) return a
    if (a.ops.length === 0) return b
    return this.#of([...new Set([...a.ops, ...b.ops])].sort())
  }

  with (a: AclSet, hash: string): AclSet {
    return this.#of([...a.ops, hash].sort())
  }
}

export class AclFold {
  readonly #genesis: Genesis
  readonly #lookup: (hash: string) => AclOpFacts
  readonly #states = new WeakMap<AclSet, AclState>()

  constructor (genesis: Genesis, lookup: (hash: string) => AclOpFacts) {
    this.#genesis = genesis
    this.#lookup = lookup
  }

  stateOf (set: AclSet): AclState {
    let state = this.#states.get(set)
    if (state === undefined) {
      state = this.#fold(set)
      this.#states.set(set, state)
    }
    return state
  }

  #genesisHolds (role: Role, did: string): boolean {
    return (role === 'admin' ? this.#genesis.admins : this.#genesis.writers).includes(did)
  }

  #fold (set: AclSet): AclState {
    const tags = new Map<string, Set<string>>()
    const tag = (role: Role, did: string, t: string): void => {
      const key = `${role} ${did}`
      const held = tags.get(key) ?? new Set<string>()
      held.add(t)
      tags.set(key, held)
    }
    for (const did of this.#genesis.admins) tag('admin', did, GENESIS_TAG)
    for (const did of this.#genesis.writers) tag('writer', did, GENESIS_TAG)
    const cancelled = new Set<string>()
    let latestAt = 0
    const revokes: AclOpFacts[] = []
    for (const hash of set.ops) {
      const op = this.#lookup(hash)
      latestAt = Math.max(latestAt, op.at)
      if (op.effect.type === 'grant') tag(op.effect.role, op.effect.did, hash)
      else if (op.effect.type === 'cancel-invite') cancelled.add(op.effect.id)
      else revokes.push(op)
    }
    for (const revoke of revokes) {
      if (revoke.effect.type !== 'revoke') continue
      const { role, did } = revoke.effect
      const held = tags.get(`${role} ${did}`)
      if (held === undefined) continue
      // Remove what the revoker had seen: the genesis grant and grants in its own past.
      if (this.#genesisHolds(role, did)) held.delete(GENESIS_TAG)
      for (const hash of revoke.past.ops) {
        const seen = this.#lookup(hash).effect
        if (seen.type === 'grant' && seen.role === role && seen.did === did) held.delete(hash)
      }
    }
    const admins = new Set<string>()
    const writers = new Set<string>()
    for (const [key, held] of tags) {
      if (held.size === 0) continue
      const [role, did] = key.split(' ') as [Role, string]
      ;(role === 'admin' ? admins : writers).add(did)
    }
    return { admins, writers, cancelledInvites: cancelled, latestAt }
  }
}
