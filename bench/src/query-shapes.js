// The documents and the query shapes of the query rows, shared by every side (queries.js for
// didbase and raw OrbitDB, peerbit.js for Peerbit), and how a query is timed. On its own, as
// until.js is, so that Peerbit's side does not load didbase with it.
import { performance } from 'node:perf_hooks'

/** Documents per author: an equality lookup on an author finds this many, at any size. */
export const PER_AUTHOR = 10
/** A range query returns this many documents, sorted. */
export const PAGE = 20

/** Document `i` of `n`: `{ _id, author, n }`, `n` unique, `n / PER_AUTHOR` authors. */
export const queryDoc = (i, n) => ({ _id: `q${i}`, author: `a${i % (n / PER_AUTHOR)}`, n: i })

/**
 * The parameters of call `i` of a shape over `n` documents, a different one each call (no
 * side answers a query it has just answered): an author, and a window of `n / 10` values of
 * `n` (a range lookup sorts it by `n` descending and takes PAGE; a count counts it).
 */
export const params = (n) => ({
  author: (i) => `a${(i * 7) % (n / PER_AUTHOR)}`,
  window: (i) => {
    const lo = ((i * 37) % 90) * (n / 100)
    return { lo, hi: lo + n / 10 }
  }
})

/**
 * Throw unless `result` is the answer to call `i` of `shape` over `n` documents: the
 * documents (`{ author, n }`) of an equality or range lookup, in order, or a count.
 */
export function checkAnswer (shape, result, i, n) {
  const p = params(n)
  let ok
  if (shape === 'count') {
    ok = result === n / 10
  } else if (shape === 'equality') {
    const author = p.author(i)
    ok = result.length === PER_AUTHOR && result.every((d) => d.author === author)
  } else {
    const { hi } = p.window(i)
    ok = result.length === PAGE && result.every((d, k) => Number(d.n) === hi - 1 - k)
  }
  if (!ok) throw new Error(`bench: the ${shape} query over ${n} documents (call ${i}) answered ${JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? Number(v) : v)).slice(0, 300)}`)
}

/**
 * ms per call of `call(i)`: the median of calls repeated for about `budgetMs` (at most
 * `most`), the first left out as warm-up. A call that takes the whole budget is timed once
 * (a scan of many seconds gains nothing from a warm-up).
 */
export async function timeCalls (call, budgetMs = 2000, most = 25) {
  const times = []
  let spent = 0
  for (let i = 0; i < most && (i === 0 || spent < budgetMs); i++) {
    const start = performance.now()
    await call(i)
    const ms = performance.now() - start
    times.push(ms)
    spent += ms
  }
  if (times.length > 1) times.shift()
  return percentile(times, 0.5)
}

/** The `p` quantile of `values` (nearest rank). */
export function percentile (values, p) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]
}

/** Live writes of warm-up, before the timed ones. */
export const LIVE_WARM_UP = 5

/** The median and p95 of live delays, those of warm-up left out. */
export const liveDelays = (delays) => {
  const timed = delays.slice(LIVE_WARM_UP)
  return { medianMs: percentile(timed, 0.5), p95Ms: percentile(timed, 0.95) }
}
