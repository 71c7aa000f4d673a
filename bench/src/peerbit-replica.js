// A Peerbit replica in its own process: catch up with a store of n documents, report peak
// RSS to the parent, then close and delete its directory. argv: address n multiaddr
import { performance } from 'node:perf_hooks'
import { closePeer, open, peer } from './peerbit.js'

const [address, count, multiaddr] = process.argv.slice(2)
const n = Number(count)
const p = await peer()
try {
  await p.client.dial(multiaddr)
  const start = performance.now()
  const store = await open(p, address)
  while ((await store.docs.count()) < n) await new Promise((resolve) => setTimeout(resolve, 100))
  // maxRSS is in KiB.
  process.send({ peakRssMiB: process.resourceUsage().maxRSS / 1024, catchUpMs: performance.now() - start })
} finally {
  await closePeer(p)
}
