/**
 * A wallet for tests: a real viem local account (what wallets sign with), and CACAOs made as
 * did-session makes them.
 */
import { Cacao, SiweMessage } from '@didtools/cacao'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { resourceOf } from '../src/delegation/cacao.js'

export const TEST_ADDRESS = '/orbitdb/zdpuDelegationTest'
export const wallet = privateKeyToAccount(generatePrivateKey())
export const walletDid = `did:pkh:eip155:1:${wallet.address.toLowerCase()}`


/** A CACAO as did-session makes one: SIWE fields, EIP-191 signature, `aud` the session key. */
export async function walletCacao (session: string, fields: { resources?: string[], expiresIn?: number, chainId?: string, signer?: typeof wallet, issuedIn?: number } = {}): Promise<Record<string, unknown>> {
  // `issuedIn`: a wallet whose clock is ahead (or a message dated ahead on purpose).
  const now = Date.now() + (fields.issuedIn ?? 0)
  const msg = new SiweMessage({
    domain: 'app.example.com',
    address: wallet.address,
    statement: 'Write to didbase databases',
    uri: session,
    version: '1',
    nonce: 'n0nce1234',
    issuedAt: new Date(now - 1000).toISOString(),
    expirationTime: new Date(now + (fields.expiresIn ?? 3_600_000)).toISOString(),
    chainId: fields.chainId ?? '1',
    resources: fields.resources ?? [resourceOf(TEST_ADDRESS)]
  })
  msg.signature = await (fields.signer ?? wallet).signMessage({ message: msg.toMessage() })
  return Cacao.fromSiweMessage(msg) as unknown as Record<string, unknown>
}

