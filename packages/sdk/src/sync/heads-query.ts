/**
 * `/didbase/heads/1.0.0`: ask a peer which heads it holds of a database it has open. One
 * length-prefixed JSON request (`{ address }`), one reply (`{ heads }`, or `{ heads: null }`
 * when the database is not open there), then the stream closes.
 *
 * OrbitDB's heads exchange sends heads both ways but acknowledges nothing, and a gossiped
 * entry is never acknowledged either: this is how a writer learns that a peer holds its
 * write (`whenPeerHolds`, `didbase put --peer`). Heads are what any subscriber of the
 * database's topic sees anyway; a peer answers only for databases it has open.
 */
import { withDeadline } from '@didbase/access/internal'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { lpStream } from '@libp2p/utils'
import { debugLog } from '../log.js'

const log = debugLog('heads-query')

export const HEADS_PROTOCOL = '/didbase/heads/1.0.0'
/** A request names one address. */
const MAX_REQUEST = 1024
/** At most 512 heads of about 60 characters each (bounded-append.ts), and room to spare. */
const MAX_REPLY = 64 * 1024
const QUERY_TIMEOUT = 10_000

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
const decode = (bytes: { subarray: () => Uint8Array }): unknown => JSON.parse(new TextDecoder().decode(bytes.subarray()))

/** The heads `peer` holds of `address`, or undefined when it does not have the database open. */
export async function queryHeads (libp2p: Libp2p, peer: PeerId | Multiaddr, address: string, signal?: AbortSignal): Promise<string[] | undefined> {
  const options = { signal: AbortSignal.any([AbortSignal.timeout(QUERY_TIMEOUT), ...(signal ? [signal] : [])]) }
  const stream = await libp2p.dialProtocol(peer, HEADS_PROTOCOL, options)
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_REPLY })
    await lp.write(encode({ address }), options)
    const reply = decode(await lp.read(options)) as { heads?: unknown }
    if (reply.heads === null || reply.heads === undefined) return undefined
    if (!Array.isArray(reply.heads) || reply.heads.some((h) => typeof h !== 'string')) throw new Error('the peer answered with something that is not a list of heads')
    return reply.heads as string[]
  } finally {
    await stream.close().catch((err) => { log('closing the heads stream to %s: %e', peer.toString(), err) })
  }
}

/** Answer heads queries on `libp2p` for the databases `headsOf` has open. A malformed request closes the stream; nothing crashes. */
export async function handleHeadsQueries (libp2p: Libp2p, headsOf: (address: string) => Promise<string[] | undefined>): Promise<void> {
  await libp2p.handle(HEADS_PROTOCOL, async (stream: Stream) => {
    try {
      // A deadline that ends with the answer: one timer per query, not one alive 10 s after each.
      await withDeadline(QUERY_TIMEOUT, undefined, async (signal) => {
        const lp = lpStream(stream, { maxDataLength: MAX_REQUEST })
        const request = decode(await lp.read({ signal })) as { address?: unknown } | null
        const heads = typeof request?.address === 'string' ? await headsOf(request.address) : undefined
        await lp.write(encode({ heads: heads ?? null }), { signal })
        await stream.close()
      })
    } catch (err) {
      log('a heads query failed: %e', err)
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: 8 })
}
