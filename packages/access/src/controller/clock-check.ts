/**
 * The clock rule (policy/bounds.ts) on a fixed writer set, whose entries are checked alone,
 * without fetching what they link to. OrbitDB checks an entry it joins before the entries it
 * links to, and adds nothing of a join until every entry in it passed (`@orbitdb/core` 4.0.0
 * `src/oplog/log.js` 246-311). So an entry whose links are not here yet waits for them: each
 * link, once checked here, checks the entries waiting on it, and a clock that does not fit
 * fails that link's check, and with it the whole join. Fetching each link to read its clock
 * instead cost a network round trip per entry of a catch-up.
 */
import QuickLRU from 'quick-lru'
import { EntryRejectedError } from '../errors.js'
import { clockDenial } from '../policy/bounds.js'

/** Clocks of entries checked here, kept while recently used. */
const CACHED_CLOCKS = 4096
/** Entries waiting for a link; more push out the oldest, whose check is then left to OrbitDB's order. */
const MAX_WAITING = 16_384
/** Links those entries wait for, counted once per entry: an entry may name up to 1,024 (policy/links.ts). */
const MAX_WAITING_LINKS = 65_536

interface Waiting {
  hash: string
  did: string
  time: number
  /** The links not checked yet. */
  links: Set<string>
  /** The latest clock of the links checked so far. */
  latest: number
}

export class ClockCheck {
  readonly #clocks = new QuickLRU<string, number>({ maxSize: CACHED_CLOCKS })
  /** Entries waiting, by a link they wait for. */
  readonly #waiting = new Map<string, Set<Waiting>>()
  /** The same entries, oldest first; an entry leaves both when its last link is checked or it is pushed out. */
  readonly #entries = new Set<Waiting>()
  /** How many waiting entries each hash has (an entry may come again while it waits). */
  readonly #waitingHashes = new Map<string, number>()
  /** Links the waiting entries still wait for, summed over entries. */
  #links = 0
  readonly #readLocal: (hash: string) => Promise<number | undefined>

  /** `readLocal`: the clock of an entry held here (the local store, never the network), if it is. */
  constructor (readLocal: (hash: string) => Promise<number | undefined>) {
    this.#readLocal = readLocal
  }

  /** Check `time` against the links held here; wait for the others. Throws `EntryRejectedError` (`invalid-clock`). */
  async check (hash: string, did: string, time: number, links: readonly string[]): Promise<void> {
    let latest = 0
    const missing = new Set<string>()
    for (const link of new Set(links)) {
      const known = this.#clocks.get(link) ?? await this.#readLocal(link)
      if (known === undefined) missing.add(link)
      else latest = Math.max(latest, typeof known === 'number' ? known : Number.NaN)
    }
    // A link may have passed while this one read the store: it would never be passed again.
    for (const link of missing) {
      const known = this.#clocks.get(link)
      if (known === undefined) continue
      missing.delete(link)
      latest = Math.max(latest, known)
    }
    // A link already as late as the entry fails it now, whatever the others say.
    const early = missing.size === 0 ? clockDenial(time, latest) : (latest + 1 > time || Number.isNaN(latest) ? clockDenial(time, latest) : undefined)
    if (early !== undefined) throw new EntryRejectedError(hash, did, 'invalid-clock', early)
    if (missing.size === 0) return
    const waiting = { hash, did, time, links: missing, latest }
    for (const link of missing) {
      const on = this.#waiting.get(link)
      if (on === undefined) this.#waiting.set(link, new Set([waiting]))
      else on.add(waiting)
    }
    this.#entries.add(waiting)
    this.#waitingHashes.set(hash, (this.#waitingHashes.get(hash) ?? 0) + 1)
    this.#links += missing.size
    while (this.#entries.size > MAX_WAITING || this.#links > MAX_WAITING_LINKS) this.#forgetOldest()
  }

  /** Entries waiting and the links they wait for (what the bounds above hold). */
  get size (): { entries: number, links: number, keys: number } {
    return { entries: this.#entries.size, links: this.#links, keys: this.#waiting.size }
  }

  /** An entry passed its own checks: record its clock, and check the entries waiting on it (throws for the first that does not fit). */
  passed (hash: string, time: number): void {
    this.#clocks.set(hash, time)
    const waiting = this.#waiting.get(hash)
    if (waiting === undefined) return
    this.#waiting.delete(hash)
    let refused: EntryRejectedError | undefined
    for (const w of waiting) {
      w.links.delete(hash)
      this.#links--
      w.latest = Math.max(w.latest, time)
      if (w.links.size > 0) continue
      this.#entries.delete(w)
      this.#settled(w.hash)
      const denial = clockDenial(w.time, w.latest)
      if (denial !== undefined) refused ??= new EntryRejectedError(w.hash, w.did, 'invalid-clock', denial)
    }
    if (refused !== undefined) throw refused
  }

  /**
   * Whether the entry `hash` waits for the clocks of links not checked yet: its acceptance is
   * not final, since one of them may still refuse it.
   */
  waits (hash: string): boolean {
    return this.#waitingHashes.has(hash)
  }

  /** One waiting entry of `hash` left the line (all its links checked, or pushed out). */
  #settled (hash: string): void {
    const count = (this.#waitingHashes.get(hash) ?? 1) - 1
    if (count > 0) this.#waitingHashes.set(hash, count)
    else this.#waitingHashes.delete(hash)
  }

  /** Push out the entry that waited longest, from under every link it waits for. */
  #forgetOldest (): void {
    const oldest = this.#entries.values().next().value
    if (oldest === undefined) return
    this.#entries.delete(oldest)
    this.#settled(oldest.hash)
    for (const link of oldest.links) {
      const on = this.#waiting.get(link)
      on?.delete(oldest)
      if (on?.size === 0) this.#waiting.delete(link)
    }
    this.#links -= oldest.links.size
  }
}
