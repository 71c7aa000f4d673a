/**
 * One user on many devices and wallets: an identity whose entries are signed by a session
 * or device key (an Ed25519 did:key, so each entry costs what it costs today) and claimed
 * for the **user DID** that delegated to it: a root did:key kept on one trusted device, or a
 * wallet's did:pkh through Sign-In with Ethereum. Every replica checks the delegation (see
 * delegation/ and judge/rules.ts).
 */
import { Cacao, SiweMessage } from '@didtools/cacao'
import { base64pad } from 'multiformats/bases/base64'
import { type Did, canonicalPkh } from '../did/did.js'
import { InvalidDelegationError } from '../errors.js'
import { resourceOf } from '../delegation/cacao.js'
import { type Delegation, verifyDelegation } from '../delegation/chain.js'
import { createDeviceDelegation, type DeviceDelegationOptions } from '../delegation/device.js'
import { ANY_DATABASE, type ProofLink } from '../delegation/link.js'
import { createDidKeyIdentity, type DidIdentity, type DidKeyIdentity } from '../did/identity.js'

/** An identity that signs with a key its user delegated to. `did` is the user DID. */
export interface DelegatedIdentity extends DidIdentity {
  /** The user DID: what policies name, and what every entry it writes claims as its writer. */
  readonly did: Did
  /** The session or device key that signs. */
  readonly signer: DidKeyIdentity
  /** The delegation from `did` to `signer`: its links, the user's first. */
  readonly proof: readonly ProofLink[]
  /** When the delegation ends, in ms since the epoch. */
  readonly expiresAt: number
  /** The databases it covers (`['*']` for any). */
  readonly scope: readonly string[]
}

export function isDelegated (identity: DidIdentity): identity is DelegatedIdentity {
  return (identity as Partial<DelegatedIdentity>).signer !== undefined && Array.isArray((identity as Partial<DelegatedIdentity>).proof)
}

/**
 * An identity from a key and its delegation, checked as a replica would check it (offline).
 * Throws `InvalidDelegationError` when the delegation is not for `signer`.
 */
export async function delegatedIdentity (signer: DidKeyIdentity, proof: readonly ProofLink[]): Promise<DelegatedIdentity> {
  const delegation: Delegation = await verifyDelegation([...proof])
  if (delegation.audience !== signer.did) throw new InvalidDelegationError(`the delegation is for ${delegation.audience}, not for ${signer.did}`)
  return {
    did: delegation.issuer as Did,
    publicKey: signer.publicKey,
    sign: signer.sign,
    signer,
    proof: [...proof],
    expiresAt: delegation.expiresAt,
    scope: delegation.scope
  }
}

/**
 * On the trusted device: let the device key `device` (its did:key, sent by the device) write
 * for `root`, with an expiry and a scope. Give the token to the device: no secret leaves
 * either one. The device calls `delegatedIdentity(itsKey, [token])`.
 */
export async function delegateDevice (root: DidIdentity, device: string, options: DeviceDelegationOptions = {}): Promise<string> {
  return createDeviceDelegation(root, device, options)
}

/** A new device key and its delegation from `root`, in one step (tests, and one process holding both). */
export async function createDeviceIdentity (root: DidIdentity, options: DeviceDelegationOptions = {}): Promise<DelegatedIdentity> {
  const device = createDidKeyIdentity()
  return delegatedIdentity(device, [await createDeviceDelegation(root, device.did, options)])
}

/** The part of an EIP-1193 provider (a wallet in the page, or any signer behind that API) a wallet session uses. */
export interface Eip1193Provider {
  request: (args: { method: string, params?: unknown[] }) => Promise<unknown>
}

export interface WalletSessionOptions {
  /** Database addresses the session may write to, or `['*']` (the default) for any. */
  databases?: string[]
  /** How long the session lasts, in ms. Default one day. */
  expiresIn?: number
  /** The SIWE domain: the app asking. Default `location.host` in a page, else `localhost`. */
  domain?: string
  /** What the wallet shows its user. */
  statement?: string
  /** Which account to use. Default: the wallet's first. */
  address?: string
}

const DAY = 24 * 60 * 60 * 1000

/**
 * A session for the wallet behind `provider`: a new session key, and a Sign-In with Ethereum
 * message (EIP-4361) the wallet signs (EIP-191 `personal_sign`) that delegates to it, kept as
 * a CACAO. The user DID is the wallet's `did:pkh:eip155:<chain>:<address>`.
 *
 * It calls three EIP-1193 methods, in this order: `eth_requestAccounts` (the wallet may ask
 * its user to connect), `eth_chainId`, and `personal_sign` with the message's hex and the
 * account (the wallet shows its user the message, once per session). Nothing is sent to a
 * chain. To keep the session across restarts, `keepSession(directory, session)`; the next
 * `createDidbase({ directory })` signs with it until it expires.
 */
export async function walletSession (provider: Eip1193Provider, options: WalletSessionOptions = {}): Promise<DelegatedIdentity> {
  const accounts = await provider.request({ method: 'eth_requestAccounts' }) as string[]
  const address = options.address ?? accounts[0]
  if (typeof address !== 'string') throw new InvalidDelegationError('the wallet gave no account')
  const chainId = Number.parseInt(String(await provider.request({ method: 'eth_chainId' })), 16)
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new InvalidDelegationError('the wallet gave no chain id')
  if (canonicalPkh(`did:pkh:eip155:${chainId}:${address}`) === undefined) throw new InvalidDelegationError(`${address} is not an Ethereum address`)
  const session = createDidKeyIdentity()
  const now = Date.now()
  const databases = options.databases ?? [ANY_DATABASE]
  const host = (globalThis as { location?: { host?: string } }).location?.host
  const message = new SiweMessage({
    domain: options.domain ?? (host !== undefined && host !== '' ? host : 'localhost'),
    address,
    statement: options.statement ?? 'Let this session write to didbase databases for this account.',
    uri: session.did,
    version: '1',
    nonce: base64pad.baseEncode(globalThis.crypto.getRandomValues(new Uint8Array(12))).replace(/[^a-zA-Z0-9]/g, '').slice(0, 16),
    issuedAt: new Date(now).toISOString(),
    expirationTime: new Date(now + (options.expiresIn ?? DAY)).toISOString(),
    chainId: String(chainId),
    resources: databases.map(resourceOf)
  })
  const text = message.toMessage()
  const hex = `0x${[...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, '0')).join('')}`
  message.signature = await provider.request({ method: 'personal_sign', params: [hex, address] }) as string
  return delegatedIdentity(session, [Cacao.fromSiweMessage(message) as unknown as Record<string, unknown>])
}

/** What `did-session`'s `DIDSession` offers that this needs (its type is not imported: it is not needed at run time). */
export interface DidSessionLike {
  serialize: () => string
  readonly cacao: unknown
}

/**
 * A session made by the `did-session` package, as it is: its session key (from `serialize()`,
 * which holds the key's seed: keep it secret) and its CACAO.
 */
export async function fromDidSession (session: DidSessionLike): Promise<DelegatedIdentity> {
  let seed: Uint8Array
  try {
    const { sessionKeySeed } = JSON.parse(new TextDecoder().decode(base64urlDecode(session.serialize()))) as { sessionKeySeed: string }
    seed = base64pad.baseDecode(sessionKeySeed)
  } catch (cause) {
    throw new InvalidDelegationError('not a did-session session (serialize() holds no session key)', { cause })
  }
  return delegatedIdentity(createDidKeyIdentity({ seed }), [session.cacao as Record<string, unknown>])
}

function base64urlDecode (text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/')
  return base64pad.baseDecode(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
}
