/**
 * The clock rule (judge/bounds.ts) on a fixed writer set, whose entries are checked alone,
 * without fetching what they link to. OrbitDB checks an entry it joins before the entries it
 * links to, and adds nothing of a join until every entry in it passed (`@orbitdb/core` 4.0.0
 * `src/oplog/log.js` 246-311). So an entry whose links are not here yet waits for them: each
 * link, once checked here, checks the entries waiting on it, and a clock that does not fit
 * fails that link's check, and with it the whole join. Fetching each link to read its clock
 * instead cost a network round trip per entry of a catch-up.
 */
import QuickLRU from 'quick-lru'
import { EntryRejectedError } from '../errors.js'
import { clockDenial } from '../judge/bounds.js'

/** Clocks of entries checked here, kept while recently used. */
const CACHED_CLOCKS = 4096
/** Entries waiting for a link; more push out the oldest, whose check is then left to OrbitDB's order. */
const MAX_WAITING = 16_384

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
  readonly #waiting = new Map<string, Waiting[]>()
  #count = 0
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
    // A link already as late as the entry fails it now, whatever the others say.
    const early = missing.size === 0 ? clockDenial(time, latest) : (latest + 1 > time || Number.isNaN(latest) ? clockDenial(time, latest) : undefined)
    if (early !== undefined) throw new EntryRejectedError(hash, did, 'invalid-clock', early)
    if (missing.size === 0) return
    const waiting = { hash, did, time, links: missing, latest }
    for (const link of missing) this.#waiting.set(link, [...(this.#waiting.get(link) ?? []), waiting])
    this.#count++
    if (this.#count > MAX_WAITING) this.#forgetOldest()
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
      w.latest = Math.max(w.latest, time)
      if (w.links.size > 0) continue
      this.#count--
      const denial = clockDenial(w.time, w.latest)
      if (denial !== undefined) refused ??= new EntryRejectedError(w.hash, w.did, 'invalid-clock', denial)
    }
    if (refused !== undefined) throw refused
  }

  #forgetOldest (): void {
    const first = this.#waiting.keys().next()
    if (first.done === true) return
    const dropped = this.#waiting.get(first.value) ?? []
    this.#waiting.delete(first.value)
    this.#count -= dropped.length
  }
}
