// A replica in its own process: catch up with a log, then report peak RSS to the parent.
// argv: side address multiaddr firstHash lastHash
import { rm } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { closeHost, host, sides } from './sides.js'

const [sideName, address, peer, first, last] = process.argv.slice(2)
const side = sides[sideName]
const h = await host()
await h.didbase.dial(peer)
const start = performance.now()
const db = await side.eventLog(h, address)
while (!((await side.has(db, last)) && (await side.has(db, first)))) await new Promise((resolve) => setTimeout(resolve, 100))
const ms = performance.now() - start
// maxRSS is in KiB.
process.send({ peakRssMiB: process.resourceUsage().maxRSS / 1024, catchUpMs: ms })
await closeHost(h)
await rm(h.directory, { recursive: true, force: true })
