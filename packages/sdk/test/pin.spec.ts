/**
 * The pin protocol over a real libp2p stream pair (`@libp2p/utils` streamPair), with the two
 * libp2p nodes stood in by the two calls each side makes (`dialProtocol`, `handle`).
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { lpStream, streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { PinRefusedError } from '../src/errors.js'
import { handlePins, type PinDecision, PIN_PROTOCOL, requestPin } from '../src/pinning/pin.js'

type Handler = (stream: Stream, connection: { remotePeer: { toString: () => string } }) => Promise<void>

/** A server answering with `decide`, and the client end of a fresh stream to it per dial. */
async function pair (decide: PinDecision): Promise<{ client: Libp2p }> {
  let handler: Handler | undefined
  const server = { handle: async (protocol: string, h: Handler) => { expect(protocol).toBe(PIN_PROTOCOL); handler = h } } as unknown as Libp2p
  await handlePins(server, decide)
  const client = {
    dialProtocol: async () => {
      const [outbound, inbound] = await streamPair()
      void handler?.(inbound, { remotePeer: { toString: () => 'client-peer' } })
      return outbound
    }
  } as unknown as Libp2p
  return { client }
}

const PEER = multiaddr('/ip4/127.0.0.1/tcp/4001')

describe('pin protocol', () => {
  it('resolves when the peer keeps the database, having told it the address and the asking peer', async () => {
    const seen: Array<[string, string]> = []
    const { client } = await pair(async (address, remote) => { seen.push([address, remote]) })
    await requestPin(client, PEER, '/orbitdb/zdpuKeepMe')
    expect(seen).toEqual([['/orbitdb/zdpuKeepMe', 'client-peer']])
  })

  it('throws PinRefusedError with the reason the peer gave', async () => {
    const { client } = await pair(async () => { throw new PinRefusedError('not one of my creators', 'not-allowed') })
    await expect(requestPin(client, PEER, '/orbitdb/zdpuNo')).rejects.toMatchObject({ name: 'PinRefusedError', reason: 'not-allowed', message: expect.stringContaining('not one of my creators') })
  })

  it('answers a malformed request with invalid-request, never a crash', async () => {
    let handler: Handler | undefined
    const server = { handle: async (_: string, h: Handler) => { handler = h } } as unknown as Libp2p
    await handlePins(server, async () => {})
    for (const bad of ['not json', '{"address": 42}']) {
      const [outbound, inbound] = await streamPair()
      const served = handler!(inbound, { remotePeer: { toString: () => 'hostile' } })
      const lp = lpStream(outbound)
      await lp.write(new TextEncoder().encode(bad))
      const reply = JSON.parse(new TextDecoder().decode((await lp.read()).subarray())) as { ok: boolean, reason: string }
      expect(reply).toMatchObject({ ok: false, reason: 'invalid-request' })
      await served
    }
  })
})
