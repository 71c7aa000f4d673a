/**
 * Judge a remote entry before OrbitDB joins it, giving up when the judging stops making
 * progress. OrbitDB joins one entry at a time per database, so an entry whose past cannot
 * be fetched (a hostile head naming blocks nobody has, sent in a heads exchange) would hold
 * every other entry for the whole fetch timeout. A long honest catch-up keeps receiving
 * entries and is never cut short; an entry that brings nothing for IDLE_LIMIT ms is
 * dropped as `unavailable` (not a verdict: it is judged again if it comes again), while
 * its fetches finish on their own.
 */
import { EntryRejectedError } from '@didbase/access'
import type { LogEntry } from '@orbitdb/core'

export const IDLE_LIMIT = 10_000

/** `work` counts entries fetched and judged so far: while it moves, the judging is alive. */
export async function judgeWithoutStalling (entry: LogEntry, judge: (entry: LogEntry) => Promise<unknown>, work: () => number, idleLimit = IDLE_LIMIT): Promise<void> {
  const judging = judge(entry)
  let last = work()
  let lastProgress = Date.now()
  let timer: NodeJS.Timeout | undefined
  const stalled = new Promise<never>((_, reject) => {
    const look = (): void => {
      const now = work()
      if (now !== last) {
        last = now
        lastProgress = Date.now()
      }
      if (Date.now() - lastProgress >= idleLimit) {
        reject(new EntryRejectedError(entry.hash, String(entry.identity), 'unavailable', `nothing of the entry's past arrived for ${idleLimit / 1000} s; it is judged again if it comes again`))
        return
      }
      timer = setTimeout(look, Math.min(1_000, idleLimit))
    }
    timer = setTimeout(look, Math.min(1_000, idleLimit))
  })
  try {
    await Promise.race([judging, stalled])
  } finally {
    clearTimeout(timer)
    // The judging may still end later; its verdict is kept by the policy, not thrown here.
    judging.catch(() => {})
  }
}
