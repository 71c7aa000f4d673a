/**
 * Every received gossipsub message gets bytes of its own, so no part of it keeps its frame.
 *
 * Gossipsub decodes a frame (up to 4 MiB) into messages whose byte fields (`data`, `from`,
 * `seqno`, `signature`, `key`) are views into the frame, and holds each message while it is
 * validated (judging an entry can wait for its past) and in its message cache afterwards
 * (about five heartbeats). A peer that pads a small entry with unknown fields to 4 MiB thus
 * had every held message keep 4 MiB, while the validator's lines count only the entry's
 * bytes. Copied here, after gossipsub has taken the message from an accepted peer and
 * before it validates it; the frame goes once its messages are copied.
 *
 * Works around `@libp2p/gossipsub` 15.0.23 `dist/src/gossipsub.js` 803-805
 * (`handleReceivedMessage` keeps the decoded views). Delete when gossipsub copies what it keeps.
 */
type Bytes = Uint8Array | undefined

interface RawMessage { data?: Bytes, from?: Bytes, seqno?: Bytes, signature?: Bytes, key?: Bytes }

interface GossipsubReceive {
  handleReceivedMessage: (from: unknown, rpcMsg: RawMessage) => Promise<void>
}

/** Whether this gossipsub has the method `ownMessageBytes` wraps (a test checks it: a rename would silently undo the fix). */
export function hasReceiveHook (pubsub: unknown): boolean {
  return typeof (pubsub as Partial<GossipsubReceive>).handleReceivedMessage === 'function'
}

/** A copy of `bytes` when it is a view into a larger buffer; `bytes` itself otherwise. */
export function ownBytes<B extends Bytes> (bytes: B): B {
  if (bytes === undefined || (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)) return bytes
  return bytes.slice() as B
}

export function ownMessageBytes (pubsub: unknown): void {
  if (!hasReceiveHook(pubsub)) return
  const g = pubsub as GossipsubReceive
  const receive = g.handleReceivedMessage.bind(g)
  g.handleReceivedMessage = async (from, rpcMsg) => {
    rpcMsg.data = ownBytes(rpcMsg.data)
    rpcMsg.from = ownBytes(rpcMsg.from)
    rpcMsg.seqno = ownBytes(rpcMsg.seqno)
    rpcMsg.signature = ownBytes(rpcMsg.signature)
    rpcMsg.key = ownBytes(rpcMsg.key)
    return receive(from, rpcMsg)
  }
}
