/**
 * A fast message id for gossipsub: a digest of every byte of the message as it came.
 *
 * Gossipsub checks a message's signature before it looks up whether it has seen that
 * message, so each copy that arrives from another mesh peer is verified again; with a few
 * mesh peers, every database entry was verified several times on every node. Given a fast
 * id, gossipsub drops an exact copy of a message it already took before any of that work.
 * The digest covers the signature and everything it signs, so only a byte-for-byte copy of
 * a message that already passed is skipped: a forged or altered message has another id and
 * is checked as usual. SHA-256 keeps ids from being made to collide on purpose.
 *
 * Works around `@libp2p/gossipsub` 15.0.23 `dist/src/gossipsub.js` 881 (signature checked
 * by `validateToRawMessage`) before 911 (the seen cache). Delete when gossipsub consults its
 * seen cache first.
 */
import type { GossipsubOpts } from '@libp2p/gossipsub'
import { sha256 } from '@noble/hashes/sha2.js'

type RawMessage = Parameters<GossipsubOpts['fastMsgIdFn']>[0]

const text = new TextEncoder()

export function fastMessageId (message: RawMessage): string {
  const hash = sha256.create()
  // Each field is length-prefixed (absent: 0xffffffff), so no two messages share an input.
  for (const field of [text.encode(message.topic), message.from, message.seqno, message.data, message.signature, message.key]) {
    const length = new Uint8Array(4)
    new DataView(length.buffer).setUint32(0, field === undefined ? 0xffffffff : field.byteLength)
    hash.update(length)
    if (field !== undefined) hash.update(field)
  }
  // One flat string of 32 characters. Hex built two characters at a time is a chain of 32
  // string pieces (about 1 KiB), which gossipsub keeps for every message it has seen: under a
  // flood of 20,000 messages that was half of what the flood left on the heap.
  return String.fromCharCode(...hash.digest())
}

/**
 * Gossipsub's key for a message id, as one flat string. Its default is base64 built a
 * character at a time: a chain of string pieces per message, kept in its seen cache, score
 * records and id caches for two minutes. A 20,000-entry flood left about 635,000 such pieces
 * (19 MiB) on the victim's heap. The key never leaves this node, so any one-to-one mapping
 * does: one character per byte.
 *
 * Works around `@libp2p/gossipsub` 15.0.23 `dist/src/utils/messageIdToString.js`. Delete when
 * its default builds a flat string.
 */
export function messageIdKey (msgId: Uint8Array): string {
  return String.fromCharCode(...msgId)
}
