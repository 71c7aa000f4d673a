/**
 * Bring the unjudged past of some entries into the local block store, a level at a time
 * with many fetches in flight, as OrbitDB's own traversal does: walking it one entry at a
 * time would cost a network round trip per entry.
 */
import { linksOf } from './links.js'

const PREFETCH_BATCH = 64

/** Failures are left for the walk to report; `fetched` is told of each entry loaded. */
export async function prefetchPast<E extends { next: unknown, refs: unknown }> (hashes: readonly string[], load: (hash: string) => Promise<E>, known: (hash: string) => boolean, fetched: () => void): Promise<void> {
  let level = [...new Set(hashes)].filter((h) => !known(h))
  const seen = new Set(level)
  while (level.length > 0) {
    const nextLevel: string[] = []
    for (let i = 0; i < level.length; i += PREFETCH_BATCH) {
      const loaded = await Promise.allSettled(level.slice(i, i + PREFETCH_BATCH).map(async (h) => load(h)))
      for (const result of loaded) {
        if (result.status !== 'fulfilled') continue
        fetched()
        for (const link of linksOf(result.value, known)) {
          if (seen.has(link) || known(link)) continue
          seen.add(link)
          nextLevel.push(link)
        }
      }
    }
    level = nextLevel
  }
}
