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
 * entry is never joined, so no later step asks again. A local append (not hashed yet) goes
 * straight to the policy, which runs once for it (access controller/controller.ts).
 */
import type { LogEntry } from '@orbitdb/core'

/** Accepted hashes remembered; an entry is joined within moments of its verdict, and the log answers for it after that. */
export const MAX_REMEMBERED = 16_384

type CanAppend = (entry: LogEntry) => Promise<boolean>

export class Verdicts {
  readonly #judge: CanAppend
  readonly #accepted = new Set<string>()
  /** Verdicts reached, and verdicts answered from here, since the replica opened. */
  readonly stats = { judged: 0, answered: 0 }

  constructor (judge: CanAppend) {
    this.#judge = judge
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
    if (accepted) this.#remember(hash)
    return accepted
  }

  #remember (hash: string): void {
    if (this.#accepted.size >= MAX_REMEMBERED) this.#accepted.delete(this.#accepted.values().next().value as string)
    this.#accepted.add(hash)
  }
}

/** Route every verdict the access controller `access` gives (OrbitDB's log holds it too) through one `Verdicts`. */
export function judgeOnce (access: { canAppend: CanAppend }): Verdicts {
  const verdicts = new Verdicts(access.canAppend.bind(access))
  access.canAppend = async (entry) => verdicts.admit(entry)
  return verdicts
}
