/**
 * Per-record ownership: which accepted entries created each record key, and whether a
 * creation is in an entry's causal past (its authors then own the record there).
 */

/** An entry that created a record, and entries known to have it in their past. */
export interface Creation {
  hash: string
  did: string
  time: number
  reachedFrom: Set<string>
}

/** What the walk needs of a judged entry: its time and its links, `next` first. */
export interface Ancestry {
  time: number
  parents?: readonly string[]
  nextCount?: number
}

export class OwnershipIndex {
  /** For each record key: the accepted entries that created it (one, unless created concurrently). */
  readonly #creations = new Map<string, Creation[]>()
  readonly #ancestry: (hash: string) => Ancestry | undefined

  constructor (ancestry: (hash: string) => Ancestry | undefined) {
    this.#ancestry = ancestry
  }

  /**
   * The entries that created record `key` and are in the past of `parents`: their authors
   * own it. More than one only if it was created concurrently; none if it does not exist there.
   */
  creationsInPast (parents: readonly string[], key: string): Creation[] {
    return (this.#creations.get(key) ?? []).filter((creation) => this.#reaches(parents, creation))
  }

  /**
   * An accepted entry on `key`: a creation when its past `reached` none; either way, it now
   * reaches the creations it found, and later searches stop there.
   */
  accepted (hash: string, did: string, time: number, key: string, reached: readonly Creation[]): void {
    if (reached.length === 0) {
      const creations = this.#creations.get(key) ?? []
      creations.push({ hash, did, time, reachedFrom: new Set() })
      this.#creations.set(key, creations)
    }
    for (const creation of reached) creation.reachedFrom.add(hash)
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
      const facts = this.#ancestry(hash)
      if (facts === undefined || facts.time <= creation.time || facts.parents === undefined) continue
      // `next` is pushed last so it is walked first: the previous write is usually there.
      const [next, refs] = [facts.parents.slice(0, facts.nextCount), facts.parents.slice(facts.nextCount)]
      stack.push(...refs, ...next)
    }
    return false
  }
}
