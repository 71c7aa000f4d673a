/**
 * Bring the unjudged past of some entries into the local block store, a level at a time
 * with many fetches in flight, as OrbitDB's own traversal does: walking it one entry at a
 * time would cost a network round trip per entry.
 *
 * Every entry of that past is needed to judge, so the first one that cannot be fetched ends
 * the prefetch and the judgement (`unavailable`): a stranger's past of a thousand blocks
 * linking to a thousand blocks nobody has would otherwise take a fetch timeout per batch,
 * for hours. A level holds at most MAX_PREFETCHED hashes (the walk fetches what a wider
 * level leaves out), and hashes already fetched are remembered up to that many, then only
 * from the level before: memory stays bounded on a past of any length, and a long history
 * is still fetched ahead all the way.
 */
import { linksOf } from '../policy/links.js'

const PREFETCH_BATCH = 64
/** Hashes one level of a prefetch holds, and hashes it remembers as fetched, at most. */
export const MAX_PREFETCHED = 16_384

/** An entry of the past that could not be fetched. */
export interface PrefetchFailure {
  hash: string
  error: unknown
}

/** `fetched` is told of each entry loaded; resolves to the first entry that could not be, if one could not. */
export async function prefetchPast<E extends { next: unknown, refs: unknown }> (hashes: readonly string[], load: (hash: string) => Promise<E>, known: (hash: string) => boolean, fetched: () => void): Promise<PrefetchFailure | undefined> {
  let level = [...new Set(hashes)].filter((h) => !known(h)).slice(0, MAX_PREFETCHED)
  let seen = new Set(level)
  while (level.length > 0) {
    const nextLevel: string[] = []
    for (let i = 0; i < level.length; i += PREFETCH_BATCH) {
      const batch = level.slice(i, i + PREFETCH_BATCH)
      const loaded = await Promise.allSettled(batch.map(async (h) => load(h)))
      for (const [j, result] of loaded.entries()) {
        if (result.status !== 'fulfilled') {
          const hash = batch[j] as string
          // Judged meanwhile by another path: not needed any more.
          if (known(hash)) continue
          return { hash, error: result.reason }
        }
        fetched()
        for (const link of linksOf(result.value, known)) {
          if (seen.has(link) || known(link) || nextLevel.length >= MAX_PREFETCHED) continue
          seen.add(link)
          nextLevel.push(link)
        }
      }
    }
    // Forget all but the level to come once too many are remembered (a link seen before may be fetched again: it is stored by then).
    if (seen.size > MAX_PREFETCHED) seen = new Set(nextLevel)
    level = nextLevel
  }
  return undefined
}
