/**
 * The example's back end: an always-on didbase peer (WebSockets for browsers, a circuit
 * relay so browsers can set up WebRTC between them, pins from anyone) and a static server
 * for the built page, which also tells the page the peer's address at /peer.json.
 *
 *   node --experimental-strip-types server/serve.ts [--dir d] [--http-port 5173] [--peer-port 4002]
 *
 * Prints one JSON line once both listen: { "url": …, "peer": … }. Stops on SIGINT/SIGTERM.
 */
import { startReplicator } from '@didbase/sdk/replicator'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '.didbase-peer' },
    'http-port': { type: 'string', default: '5173' },
    'peer-port': { type: 'string', default: '4002' }
  }
})

const DIST = fileURLToPath(new URL('../dist/', import.meta.url))
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json' }

const replicator = await startReplicator({
  directory: values.dir,
  listen: [`/ip4/127.0.0.1/tcp/${values['peer-port']}/ws`],
  creators: ['*'],
  relay: true
})
const peer = replicator.didbase.multiaddrs.find((a) => a.includes('/ws/'))
if (peer === undefined) throw new Error('the peer has no WebSocket address')

const http = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  if (path === '/peer.json') {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    res.end(JSON.stringify({ multiaddr: peer }))
    return
  }
  // Files from dist/ only; anything else is the page (its state lives in the hash).
  const file = normalize(join(DIST, path === '/' ? 'index.html' : path))
  const inDist = file.startsWith(DIST)
  readFile(inDist ? file : join(DIST, 'index.html')).then((body) => {
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
    res.end(body)
  }, () => {
    res.writeHead(404).end()
  })
})
await new Promise<void>((resolve) => http.listen(Number(values['http-port']), '127.0.0.1', resolve))
const address = http.address()
const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : values['http-port']}/`
console.log(JSON.stringify({ url, peer }))

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    http.closeAllConnections()
    http.close()
    replicator.close().then(() => process.exit(0), () => process.exit(1))
  })
}
