/**
 * Where the keys of a private database's epochs can be found, as its accepted access
 * operations carry them: shares (wrapped for some members) and chain links (an epoch's key
 * sealed under the key of a later one). Every replica keeps it; only members open it.
 */
import type { KeyShare, Rekey } from '../policy/share-shape.js'
import type { Sealed } from './sealed.js'

/** A key share an accepted operation carries, for members to open. */
export interface CarriedShare {
  epoch: string
  to: readonly string[]
  share: KeyShare
  /** What the share is bound to: the epoch id, or `next:<epochs it follows>` for a rotation's own key. */
  label: string
}

/** A rotation's links back: the keys of the epochs it follows, each sealed under its key. */
export interface CarriedChain {
  follows: readonly string[]
  links: Rekey['chain']
}

export interface Successor {
  /** The later epoch, whose key opens `link`. */
  epoch: string
  link: Sealed
}

export interface KeySources {
  readonly size: number
  /** Accepted shares of `epoch`'s key. */
  sharesOf: (epoch: string) => readonly CarriedShare[]
  /** Later epochs whose keys open `epoch`'s. */
  successorsOf: (epoch: string) => readonly Successor[]
}

export class KeyLog implements KeySources {
  readonly #shares = new Map<string, CarriedShare[]>()
  readonly #successors = new Map<string, Successor[]>()
  #size = 0

  /** How many shares and links it holds: a key not found is looked for again when this grows. */
  get size (): number {
    return this.#size
  }

  /** An accepted operation `hash` carries these. */
  record (hash: string, carried: { shares: readonly CarriedShare[], chain?: CarriedChain }): void {
    this.#size += carried.shares.length + (carried.chain?.links.length ?? 0)
    for (const share of carried.shares) this.#shares.set(share.epoch, [...(this.#shares.get(share.epoch) ?? []), share])
    const chain = carried.chain
    if (chain === undefined) return
    chain.follows.forEach((previous, i) => {
      const link = chain.links[i]
      if (link !== undefined) this.#successors.set(previous, [...(this.#successors.get(previous) ?? []), { epoch: hash, link }])
    })
  }

  sharesOf (epoch: string): readonly CarriedShare[] {
    return this.#shares.get(epoch) ?? []
  }

  successorsOf (epoch: string): readonly Successor[] {
    return this.#successors.get(epoch) ?? []
  }
}
