/**
 * AbortSignal on the calls that can wait: an aborted write rejects with the signal's reason
 * and writes nothing; an aborted read or close rejects with it; the node still closes.
 */
import { describe, expect, it } from 'vitest'
import { peer, tempDir } from './src/peers.js'

const aborted = (): AbortSignal => AbortSignal.abort(new Error('called off'))

describe('AbortSignal', () => {
  it('a write called off before it is signed rejects with the reason, and nothing is written', async () => {
    const alice = await peer()
    const todos = await alice.keyValue<string>('todos')
    const board = await alice.keyValue<string>('board', { acl: true })
    for (const write of [
      async () => todos.put('milk', 'buy milk', { signal: aborted() }),
      async () => todos.del('milk', { signal: aborted() }),
      async () => board.grant('writer', alice.did, { signal: aborted() }),
      async () => board.invite(alice.did, { signal: aborted() })
    ]) {
      await expect(write()).rejects.toThrow('called off')
    }
    expect(await todos.size()).toBe(0)
    expect(await todos.get('milk')).toBeUndefined()
    // Without a signal, the same write goes in.
    await todos.put('milk', 'buy milk')
    expect(await todos.get('milk')).toBe('buy milk')
  })

  it('reads that may wait on the network take a signal', async () => {
    const alice = await peer({ memory: true })
    const board = await alice.keyValue<string>('board', { acl: true })
    await expect(board.roles({ signal: aborted() })).rejects.toThrow('called off')
    await expect(board.canWrite(undefined, { signal: aborted() })).rejects.toThrow('called off')
    await expect(board.isAdmin(undefined, { signal: aborted() })).rejects.toThrow('called off')
    await expect(board.currentSchema({ signal: aborted() })).rejects.toThrow('called off')
    await expect(board.get('k', { signal: aborted() })).rejects.toThrow('called off')
    expect(await board.isAdmin()).toBe(true)
  })

  it('close with an aborted signal stops the waiting; the closing still happens, and the node waits for it', async () => {
    const directory = await tempDir()
    const alice = await peer({ directory })
    const todos = await alice.keyValue<string>('todos')
    await todos.put('milk', 'buy milk')
    await expect(todos.close({ signal: aborted() })).rejects.toThrow('called off')
    await expect(todos.put('milk', 'x')).rejects.toMatchObject({ name: 'ClosedError' })
    await alice.close()
    await expect(alice.keyValue('again')).rejects.toMatchObject({ name: 'ClosedError' })
    // Everything was closed before the directory was let go: a new node opens it and reads back.
    const again = await peer({ directory })
    expect(await (await again.keyValue<string>(todos.address)).get('milk')).toBe('buy milk')
  })
})
