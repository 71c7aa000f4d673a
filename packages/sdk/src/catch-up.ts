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
  /** The catch-up finished (every entry is checked and applied, or refused). */
  done: boolean
}

/** How often progress is reported while a catch-up runs. Short joins report nothing. */
export const PROGRESS_INTERVAL = 250

function clockTime (entry: LogEntry | undefined): number {
  const time = (entry as { clock?: { time?: unknown } } | undefined)?.clock?.time
  return typeof time === 'number' && Number.isSafeInteger(time) && time > 0 ? time : 0
}

/**
 * Run `join` (the join of one remote head) and report its progress every
 * PROGRESS_INTERVAL ms, then once more with `done` if anything was reported.
 */
export async function trackCatchUp<T> (
  head: LogEntry,
  localHeads: () => Promise<LogEntry[]>,
  received: () => number,
  report: (progress: SyncProgress) => void,
  join: () => Promise<T>
): Promise<T> {
  const from = Math.max(0, ...(await localHeads()).map(clockTime))
  const start = received()
  const estimate = Math.max(0, clockTime(head) - from)
  let reported = false
  const progress = (done: boolean): SyncProgress => {
    const got = received() - start
    return { received: got, expected: Math.max(estimate, got), done }
  }
  const timer = setInterval(() => {
    reported = true
    report(progress(false))
  }, PROGRESS_INTERVAL)
  try {
    return await join()
  } finally {
    clearInterval(timer)
    if (reported) report(progress(true))
  }
}
