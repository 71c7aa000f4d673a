/** Invite tokens with whatever header and claims an attacker likes, signed with a real key. */
import type { DidIdentity } from '@didbase/access'

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

export async function signToken (signer: DidIdentity, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  const data = `${b64(header)}.${b64(claims)}`
  const signature = Buffer.from(await signer.sign(new TextEncoder().encode(data))).toString('base64url')
  return `${data}.${signature}`
}

/** Claims of a didbase invite, for `address` and `audience`, valid for a minute unless overridden. */
export function inviteClaims (issuer: string, address: string, audience: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return { iss: issuer, aud: audience, iat: now, exp: now + 60, jti: `invite-${Math.random()}`, didbase: { db: address, role: 'writer' }, ...extra }
}
