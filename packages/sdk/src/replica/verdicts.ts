/**
 * A remote entry is judged once per path, here. Three steps want its verdict on its way to
 * the log: the topic validator (sync/topic-validator.ts, a pubsub message), the join's
 * stall guard (sync/replication.ts, before OrbitDB fetches its past) and OrbitDB's own
 * check in `log.joinEntry` (`@orbitdb/core` 4.0.0 `src/oplog/log.js` 259). Each asks the
 * policy's `canAppend`, which this wraps: the first judges, and later ones find the hash
 * accepted. A step that asks while another judges judges too: the first may be waiting for
 * a block the second's fetch is bringing (the judge answers the second from what the
 * first settled, and never keeps a verdict twice).
 *
 * Refusals are not kept here: the judge keeps them (access judge/judge.ts), and a refused
 * entry is never joined, so no later step asks again. Nor are acceptances that are not
 * final: a fixed writer set accepts an entry whose links it does not hold before it knows
 * their clocks, and refuses it once it does (access controller/clock-check.ts), when the
 * entry comes again. A local append (not hashed yet) goes straight to the policy, which
 * runs once for it (access controller/controller.ts).
 */
import type { LogEntry } from '@orbitdb/core'

/** Accepted hashes remembered; an entry is joined within moments of its verdict, and the log answers for it after that. */
export const MAX_REMEMBERED = 16_384

type CanAppend = (entry: LogEntry) => Promise<boolean>

/** The access controller's two answers this needs. */
export interface Judging {
  canAppend: CanAppend
  /** Whether an acceptance is final; one that is not (a fixed writer set waiting for its links' clocks) is not remembered. */
  isFinal: (hash: string) => boolean
}

export class Verdicts {
  readonly #judge: CanAppend
  readonly #final: (hash: string) => boolean
  readonly #accepted = new Set<string>()
  /** Verdicts reached, and verdicts answered from here, since the replica opened. */
  readonly stats = { judged: 0, answered: 0 }

  constructor (judge: CanAppend, final: (hash: string) => boolean) {
    this.#judge = judge
    this.#final = final
  }

  /** The policy's verdict on `entry`: true, or it throws the refusal. */
  async admit (entry: LogEntry): Promise<boolean> {
    const hash = entry.hash
    if (typeof hash !== 'string') return this.#judge(entry)
    if (this.#accepted.has(hash)) {
      this.stats.answered++
      return true
    }
    this.stats.judged++
    const accepted = await this.#judge(entry)
    if (accepted && this.#final(hash)) this.#remember(hash)
    return accepted
  }

  #remember (hash: string): void {
    if (this.#accepted.size >= MAX_REMEMBERED) this.#accepted.delete(this.#accepted.values().next().value as string)
    this.#accepted.add(hash)
  }
}

/** Route every verdict the access controller `access` gives (OrbitDB's log holds it too) through one `Verdicts`. */
export function judgeOnce (access: Judging): Verdicts {
  const verdicts = new Verdicts(access.canAppend.bind(access), (hash) => access.isFinal(hash))
  access.canAppend = async (entry) => verdicts.admit(entry)
  return verdicts
}
