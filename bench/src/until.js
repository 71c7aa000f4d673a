// Shared by measures.js and peerbit.js; on its own so that a Peerbit replica process does
// not load didbase with it.
import { performance } from 'node:perf_hooks'

/** Resolve once `check()` is true, polling every `everyMs`; fail after `limitMs`. */
export async function until (check, what, limitMs = 600_000, everyMs = 5) {
  const start = performance.now()
  while (!(await check())) {
    if (performance.now() - start > limitMs) throw new Error(`bench: ${what} did not happen in ${limitMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
