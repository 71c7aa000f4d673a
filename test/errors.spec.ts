import {
  AccessDeniedError,
  ClosedError,
  InvalidAddressError,
  InvalidValueError,
  UnknownDatabaseError,
  WrongDatabaseTypeError
} from '@didbase/sdk'
import { describe, expect, it } from 'vitest'
import { collect, connect, peer, waitFor } from './src/peers.js'

describe('bad input gets a typed error and writes nothing', () => {
  it('refuses a local write by a DID that is not a writer, before signing', async () => {
    const owner = await peer()
    const other = await peer()
    await connect(other, owner)
    const db = await owner.keyValue('owned')
    await db.put('a', 1)
    const theirs = await other.keyValue(db.address)
    await waitFor(async () => (await theirs.get('a')) === 1, 'the owner\'s write on the other peer')

    await expect(theirs.put('a', 2)).rejects.toMatchObject({ name: 'AccessDeniedError', did: other.did, address: db.address })
    await expect(theirs.del('a')).rejects.toBeInstanceOf(AccessDeniedError)
    expect(await theirs.size()).toBe(1)
    expect(await theirs.get('a')).toBe(1)
  })

  it('rejects values that are not serialisable', async () => {
    const p = await peer({ memory: true })
    const db = await p.keyValue<unknown>('values')
    await expect(db.put('u', undefined)).rejects.toMatchObject({ name: 'InvalidValueError' })
    await expect(db.put('f', () => 1)).rejects.toBeInstanceOf(InvalidValueError)
    await expect(db.put('n', Number.NaN)).rejects.toBeInstanceOf(InvalidValueError)
    await expect(db.put('', 1)).rejects.toBeInstanceOf(InvalidValueError)
    const docs = await p.documents('docs')
    await expect(docs.put({ title: 'no key' })).rejects.toMatchObject({ name: 'InvalidValueError', message: expect.stringContaining('_id') })
    expect(await db.size()).toBe(0)
    expect(await docs.size()).toBe(0)
  })

  it('rejects malformed addresses', async () => {
    const p = await peer({ memory: true })
    await expect(p.keyValue('/orbitdb/not-a-cid')).rejects.toBeInstanceOf(InvalidAddressError)
    await expect(p.open('/ipfs/zdpuAuDgzRLyTRTaHfu49rF5LLFbioWuvajCmjwjfBDx397Hf')).rejects.toMatchObject({ name: 'InvalidAddressError' })
    await expect(p.open('just-a-name')).rejects.toBeInstanceOf(InvalidValueError)
  })

  it('gives UnknownDatabaseError when no one has the manifest in time', async () => {
    const p = await peer({ memory: true, openTimeout: 500 })
    await expect(p.keyValue('/orbitdb/zdpuAuDgzRLyTRTaHfu49rF5LLFbioWuvajCmjwjfBDx397Hf')).rejects.toBeInstanceOf(UnknownDatabaseError)
  })

  it('gives WrongDatabaseTypeError for an address of another type, and open() learns the type', async () => {
    const p = await peer({ memory: true })
    const log = await p.eventLog<string>('journal')
    await log.add('x')
    await expect(p.keyValue(log.address)).rejects.toBeInstanceOf(WrongDatabaseTypeError)
    await expect(p.documents(log.address)).rejects.toMatchObject({ name: 'WrongDatabaseTypeError' })
    const opened = await p.open(log.address)
    expect(opened.type).toBe('events')
    expect(opened).toBe(log)
  })

  it('honours an aborted signal', async () => {
    const p = await peer({ memory: true })
    const controller = new AbortController()
    controller.abort(new Error('user gave up'))
    await expect(p.keyValue('x', { signal: controller.signal })).rejects.toThrow('user gave up')
  })

  it('closes idempotently and refuses use after close', async () => {
    const p = await peer({ memory: true })
    const db = await p.keyValue('k')
    await db.put('a', 1)
    await db.close()
    await db.close()
    await expect(db.put('b', 2)).rejects.toBeInstanceOf(ClosedError)
    const reopened = await p.keyValue('k')
    expect(reopened).not.toBe(db)
    expect(await collect(reopened.entries())).toHaveLength(1)
    await Promise.all([p.close(), p.close()])
    await expect(p.keyValue('k')).rejects.toBeInstanceOf(ClosedError)
  })
})
