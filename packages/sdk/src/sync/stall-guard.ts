/**
 * Keep a remote entry from holding a database while nothing arrives for it. OrbitDB joins
 * one entry at a time per database, behind which local writes wait too, so an entry whose
 * past cannot be fetched (a hostile head naming blocks nobody has, or a block that was on
 * its way from a peer that just went away) would hold everything for the whole fetch
 * timeout. A long honest catch-up keeps receiving entries and is never cut short; work
 * that brings nothing for IDLE_LIMIT ms is given up as `unavailable` (not a verdict: the
 * entry is taken again when it comes again).
 *
 * Works around `@orbitdb/core` 4.0.0 `src/database.js` 119 and `src/sync.js` 118 (one queue
 * of concurrency 1 per database, with no deadline on a join). Delete when OrbitDB gives up a
 * join that makes no progress.
 */
import { EntryRejectedError } from '@didbase/access'
import type { LogEntry } from '@orbitdb/core'

export const IDLE_LIMIT = 5_000

/**
 * Settle with `work` unless `progress` (entries fetched and judged so far) stands still for
 * `idleLimit` ms; then call `onStall` (abort the fetches) and reject as `unavailable`.
 */
export async function withoutStalling<T> (entry: LogEntry, work: Promise<T>, progress: () => number, onStall: () => void = () => {}, idleLimit = IDLE_LIMIT): Promise<T> {
  let last = progress()
  let lastProgress = Date.now()
  let timer: NodeJS.Timeout | undefined
  const stalled = new Promise<never>((_, reject) => {
    const look = (): void => {
      const now = progress()
      if (now !== last) {
        last = now
        lastProgress = Date.now()
      }
      if (Date.now() - lastProgress >= idleLimit) {
        onStall()
        reject(new EntryRejectedError(entry.hash, String(entry.identity), 'unavailable', `nothing of the entry's past arrived for ${idleLimit / 1000} s; it is taken again if it comes again`))
        return
      }
      timer = setTimeout(look, Math.min(500, idleLimit))
    }
    timer = setTimeout(look, Math.min(500, idleLimit))
  })
  try {
    return await Promise.race([work, stalled])
  } finally {
    clearTimeout(timer)
    // The work may still end later, for nothing: its outcome is not wanted here.
    work.catch(() => {})
  }
}
