/**
 * Progress of catching up with a peer. OrbitDB joins the heads a peer sends one at a time,
 * fetching everything each links to; a head's Lamport clock says how deep its log is, so
 * the distance from our own heads estimates how many entries the join will bring.
 */
import type { LogEntry } from '@orbitdb/core'

export interface SyncProgress {
  /** Entries received and checked so far in this catch-up. */
  received: number
  /**
   * Entries this catch-up is expected to bring: an estimate from the entries' clocks,
   * exact for a log without concurrent branches, never below `received`.
   */
  expected: number
  /** The catch-up finished: every entry is applied and readable, or refused. */
  done: boolean
}

/** How often progress is reported while a catch-up runs. Short joins report nothing. */
export const PROGRESS_INTERVAL = 250

function clockTime (entry: LogEntry | undefined): number {
  const time = (entry as { clock?: { time?: unknown } } | undefined)?.clock?.time
  return typeof time === 'number' && Number.isSafeInteger(time) && time > 0 ? time : 0
}

/** Reports for one join: every PROGRESS_INTERVAL ms while it runs, then the final one. */
export class CatchUp {
  readonly #received: () => number
  readonly #start: number
  readonly #timer: NodeJS.Timeout
  #estimate: number | undefined
  #reported = false
  #finished = false

  /**
   * Start reporting the join of remote `head` onto a log whose heads `localHeads` reads.
   * They are read only if the join lasts long enough to report: most live joins do not,
   * and a heads read per entry is a cost every replicated entry would pay.
   */
  constructor (head: LogEntry, localHeads: () => Promise<LogEntry[]>, received: () => number, report: (progress: SyncProgress) => void) {
    this.#received = received
    this.#start = received()
    let reading = false
    const tick = (): void => {
      this.#reported = true
      report(this.#progress(false))
    }
    this.#timer = setInterval(() => {
      if (this.#estimate !== undefined) return tick()
      if (reading) return
      reading = true
      localHeads().then((heads) => {
        this.#estimate = Math.max(0, clockTime(head) - Math.max(0, ...heads.map(clockTime)))
      }, () => { this.#estimate = 0 }).finally(() => { if (!this.#finished) tick() })
    }, PROGRESS_INTERVAL)
  }

  #progress (done: boolean): SyncProgress {
    const got = this.#received() - this.#start
    return { received: got, expected: Math.max(this.#estimate ?? 0, got), done }
  }

  /** Stop reporting; the final report, if anything was reported (to send once the join is readable). */
  finish (): SyncProgress | undefined {
    this.#finished = true
    clearInterval(this.#timer)
    return this.#reported ? this.#progress(true) : undefined
  }
}
