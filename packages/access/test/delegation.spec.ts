/**
 * Delegations, verified offline: wallet CACAOs (SIWE messages signed by a real viem local
 * account, the signer a wallet uses) and device delegations from a root did:key, each
 * attack a changed or misused proof.
 */
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { createDeviceDelegation } from '../src/delegation/device.js'
import { delegationDenial, verifyDelegation } from '../src/delegation/chain.js'
import { resourceOf } from '../src/delegation/cacao.js'
import { createDidKeyIdentity } from '../src/did/identity.js'
import { TEST_ADDRESS as ADDRESS, walletCacao, walletDid as user } from './wallet.js'

describe('wallet delegations (CACAO)', () => {
  it('a SIWE message signed by the wallet delegates to the session key, for the databases it names', async () => {
    const session = createDidKeyIdentity().did
    const d = await verifyDelegation([await walletCacao(session)])
    expect(d).toMatchObject({ issuer: user, audience: session, scope: [ADDRESS] })
    expect(delegationDenial(d, { user, signer: session, address: ADDRESS, at: Date.now() })).toBeUndefined()
  })

  it('refuses an expired CACAO, another database, another signer, a changed field, a replayed aud, another chain, a contract wallet', async () => {
    const session = createDidKeyIdentity().did
    const at = Date.now()
    const expired = await verifyDelegation([await walletCacao(session, { expiresIn: -1000 })])
    expect(delegationDenial(expired, { user, signer: session, address: ADDRESS, at })?.reason).toBe('delegation-expired')
    const elsewhere = await verifyDelegation([await walletCacao(session, { resources: [resourceOf('/orbitdb/zdpuOther')] })])
    expect(delegationDenial(elsewhere, { user, signer: session, address: ADDRESS, at })?.detail).toContain('does not cover')
    // Signed by another wallet than the one `iss` names.
    const forged = await walletCacao(session, { signer: privateKeyToAccount(generatePrivateKey()) })
    await expect(verifyDelegation([forged])).rejects.toMatchObject({ name: 'InvalidDelegationError' })
    // Fields changed after signing.
    const good = await walletCacao(session)
    const p = good.p as Record<string, unknown>
    for (const changed of [{ resources: [resourceOf('*')] }, { exp: new Date(at + 1e9).toISOString() }, { aud: createDidKeyIdentity().did }, { iss: p.iss?.toString().replace(':1:', ':5:') }]) {
      await expect(verifyDelegation([{ ...good, p: { ...p, ...changed } }])).rejects.toMatchObject({ name: 'InvalidDelegationError' })
    }
    // Replayed by another session: the delegation names the first session's key.
    const thief = createDidKeyIdentity().did
    expect(delegationDenial(await verifyDelegation([good]), { user, signer: thief, address: ADDRESS, at })?.detail).toContain('not for the key that signed')
    // Signed for chain 5: it is another DID than the one on chain 1.
    const goerli = await verifyDelegation([await walletCacao(session, { chainId: '5' })])
    expect(goerli.issuer).toBe(user.replace(':1:', ':5:'))
    expect(delegationDenial(goerli, { user, signer: session, address: ADDRESS, at })?.reason).toBe('invalid-delegation')
    await expect(verifyDelegation([{ ...good, s: { t: 'eip1271', s: '0x00' } }])).rejects.toThrow(/ERC-1271.*offline/)
  })
})

describe('device delegations (root did:key)', () => {
  it('a root delegates to a device, the device to a session; the chain proves the root to the last key', async () => {
    const [root, device, session] = [createDidKeyIdentity(), createDidKeyIdentity(), createDidKeyIdentity()]
    const chain = [await createDeviceDelegation(root, device.did, { scope: [ADDRESS] }), await createDeviceDelegation(device, session.did)]
    const d = await verifyDelegation(chain)
    expect(d).toMatchObject({ issuer: root.did, audience: session.did, scope: [ADDRESS] })
    expect(delegationDenial(d, { user: root.did, signer: session.did, address: ADDRESS, at: Date.now() })).toBeUndefined()
  })

  it('refuses a delegation signed by a key that is not the root, a broken chain, and a chain past the limit', async () => {
    const [root, device, other] = [createDidKeyIdentity(), createDidKeyIdentity(), createDidKeyIdentity()]
    const byOther = await verifyDelegation([await createDeviceDelegation(other, device.did)])
    expect(delegationDenial(byOther, { user: root.did, signer: device.did, address: ADDRESS, at: Date.now() })?.reason).toBe('invalid-delegation')
    const token = await createDeviceDelegation(root, device.did)
    const [h, , s] = token.split('.')
    const widened = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()), aud: other.did })).toString('base64url')}.${s}`
    await expect(verifyDelegation([widened])).rejects.toMatchObject({ name: 'InvalidDelegationError' })
    await expect(verifyDelegation([token, await createDeviceDelegation(other, createDidKeyIdentity().did)])).rejects.toThrow(/not by/)
    const keys = [root, device, other, createDidKeyIdentity(), createDidKeyIdentity()]
    const long = await Promise.all(keys.slice(0, 4).map(async (k, i) => createDeviceDelegation(k, (keys[i + 1] as typeof k).did)))
    await expect(verifyDelegation(long)).rejects.toThrow(/at most 3 links/)
  })
})
