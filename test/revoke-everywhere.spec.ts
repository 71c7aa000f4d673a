/**
 * A revocation lives in each database's log, so the node takes a lost device's key back in
 * every database it has open where the device wrote; the device is then refused in each.
 */
import { createDidKeyIdentity, delegatedIdentity, delegateDevice } from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { connect, peer, waitFor } from './src/peers.js'

describe('revoking a device on the node', () => {
  it('takes the key back in every open database where it registered, and only there', async () => {
    const rootKey = createDidKeyIdentity()
    const root = await peer({ identity: rootKey })
    const todos = await root.keyValue<string>('todos')
    const board = await root.keyValue<string>('board', { acl: true })
    const untouched = await root.keyValue<string>('untouched', { acl: true })
    const phoneKey = createDidKeyIdentity()
    const phone = await peer({ identity: await delegatedIdentity(phoneKey, [await delegateDevice(rootKey, phoneKey.did, { expiresIn: 3_600_000 })]) })
    await connect(phone, root)
    const onPhone = [await phone.keyValue<string>(todos.address), await phone.keyValue<string>(board.address)]
    for (const db of onPhone) await db.put('k', 'from the phone')
    await waitFor(async () => (await todos.get('k')) === 'from the phone' && (await board.get('k')) === 'from the phone', 'the root to have both writes')

    const revoked = await root.revokeDevice(phoneKey.did)
    expect([...revoked.keys()].sort()).toEqual([todos.address, board.address].sort())
    expect(await untouched.heads()).toEqual([])
    for (const [i, db] of onPhone.entries()) {
      const own = [todos, board][i]!
      await waitFor(async () => JSON.stringify(await db.heads()) === JSON.stringify(await own.heads()), 'the phone to hold the revocation')
      await expect(db.put('k', 'after')).rejects.toMatchObject({ name: 'AccessDeniedError', reason: 'device-revoked' })
    }
  })
})
