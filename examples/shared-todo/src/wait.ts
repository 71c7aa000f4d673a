/** Waiting for replication: re-check a condition on each update, with a deadline, never a fixed sleep. */

/**
 * Resolve once `check` holds. It is re-checked whenever one of `targets` (database handles)
 * emits `update`, and every 100 ms besides, since a replica's index may settle just after
 * the event. Throws, naming `what`, if it still does not hold after `timeout` ms.
 */
export async function until (what: string, check: () => Promise<boolean>, targets: EventTarget[], timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await check())) {
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await nextUpdate(targets, Math.min(100, left))
  }
}

/** The next `update` on any of `targets`, or `ms` milliseconds, whichever comes first. */
async function nextUpdate (targets: EventTarget[], ms: number): Promise<void> {
  const stop = new AbortController()
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    stop.signal.addEventListener('abort', () => clearTimeout(timer))
    for (const target of targets) target.addEventListener('update', () => resolve(), { once: true, signal: stop.signal })
  })
  stop.abort()
}
