/** Cancelling calls that can wait on the network. */
import { raceSignal } from 'race-signal'

/** Options of every call that can wait on the network. An aborted call rejects with `signal.reason`. */
export interface AbortOptions {
  signal?: AbortSignal
}

/**
 * Settle with `work`, or reject with the signal's reason as soon as it aborts. Only the
 * caller stops waiting: reads and fetches already under way finish in the background.
 */
export async function abortable<T> (work: Promise<T>, options: AbortOptions = {}): Promise<T> {
  if (options.signal?.aborted === true) {
    // Nobody waits for it now; its failure must not become an unhandled rejection.
    work.catch(() => {})
    throw options.signal.reason
  }
  return raceSignal(work, options.signal)
}
