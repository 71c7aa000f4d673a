/**
 * `/didbase/pin/1.0.0`: a client asks an always-on peer to keep and serve a database. One
 * length-prefixed JSON request (`{ address }`), one JSON reply (`{ ok }` or `{ ok: false,
 * reason, message }`), then the stream closes. The peer decides; the client only asks.
 */
import { withDeadline } from '@didbase/access/internal'
import type { Libp2p, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { Multiaddr } from '@multiformats/multiaddr'
import { type PinRefusal, PinRefusedError } from '../errors.js'
import { debugLog } from '../log.js'

const log = debugLog('pin')

export const PIN_PROTOCOL = '/didbase/pin/1.0.0'
/** Requests and replies are small; anything longer is hostile. */
const MAX_MESSAGE = 4096
/** Deciding may mean fetching a manifest and a policy from the asking peer. */
const PIN_TIMEOUT = 30_000

type Reply = { ok: true } | { ok: false, reason: PinRefusal, message: string }

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
const decode = (bytes: { subarray: () => Uint8Array }): unknown => JSON.parse(new TextDecoder().decode(bytes.subarray()))

/**
 * Ask the peer at `target` to keep `address`. Resolves once the peer has applied this node's
 * heads (so this node may go offline); throws `PinRefusedError` with the peer's reason.
 */
export async function requestPin (libp2p: Libp2p, target: Multiaddr, address: string, signal?: AbortSignal): Promise<void> {
  const options = { signal: AbortSignal.any([AbortSignal.timeout(PIN_TIMEOUT), ...(signal ? [signal] : [])]) }
  const stream = await libp2p.dialProtocol(target, PIN_PROTOCOL, options)
  try {
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE })
    await lp.write(encode({ address }), options)
    const reply = decode(await lp.read(options)) as Partial<Reply>
    if (reply.ok === true) return
    const refused = reply as Partial<Extract<Reply, { ok: false }>>
    throw new PinRefusedError(`the peer refused to keep ${address}: ${String(refused.message)}`, refused.reason ?? 'failed')
  } finally {
    await stream.close().catch((err) => { log('closing the pin stream to %a: %e', target, err) })
  }
}

/** What the serving side does with a request: resolve to keep it, or throw `PinRefusedError`. */
export type PinDecision = (address: string, remotePeer: string) => Promise<void>

/** Answer pin requests on `libp2p` with `decide`. Malformed requests get a reply, never a crash. */
export async function handlePins (libp2p: Libp2p, decide: PinDecision): Promise<void> {
  await libp2p.handle(PIN_PROTOCOL, async (stream: Stream, connection) => withDeadline(PIN_TIMEOUT, undefined, async (signal) => {
    const options = { signal }
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE })
      let reply: Reply
      try {
        const request = decode(await lp.read(options)) as { address?: unknown }
        if (typeof request?.address !== 'string') throw new PinRefusedError('the request names no address', 'invalid-request')
        await decide(request.address, connection.remotePeer.toString())
        reply = { ok: true }
      } catch (err) {
        const refused = err instanceof PinRefusedError ? err : new PinRefusedError(err instanceof SyntaxError ? 'the request is not JSON' : (err as Error).message, err instanceof SyntaxError ? 'invalid-request' : 'failed')
        reply = { ok: false, reason: refused.reason, message: refused.message }
      }
      await lp.write(encode(reply), options)
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  }), { maxInboundStreams: 4 })
}
