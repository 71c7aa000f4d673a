/**
 * The group-commit queue on its own: what reaches the append, in which order and grouping,
 * and what each write's promise settles with. The append is a function here (the queue's
 * only way out); end to end, on real nodes, see test/batches.spec.ts.
 */
import { EntryRejectedError, MAX_BATCH_OPS } from '@didbase/access'
import { describe, expect, it } from 'vitest'
import { type Checked, CommitQueue } from '../src/replica/commit-queue.js'

type Payload = Parameters<ConstructorParameters<typeof CommitQueue>[0]['append']>[0]

/** A queue whose appends are recorded; the first waits for `release`, so that what queues behind it does not depend on timing. */
function recorder (refuse: (payload: Payload) => boolean = () => false) {
  const appended: Payload[] = []
  let release!: () => void
  const held = new Promise<void>((resolve) => { release = resolve })
  const queue = new CommitQueue({
    append: async (payload) => {
      if (appended.length === 0) await held
      if (refuse(payload)) throw new EntryRejectedError('h', 'did:key:z', 'stale-key', 'the heads moved')
      appended.push(payload)
      return `entry-${appended.length}`
    },
    refused: (err) => err instanceof EntryRejectedError
  })
  return { queue, appended, release }
}

const put = (key: string, bytes = 10, alone: () => Promise<string> = async () => `alone-${key}`): Checked => ({ ops: [{ op: 'PUT', key, value: key }], bytes, alone })
const keysOf = (p: Payload): unknown => (p.op === 'BATCH' ? (p.value as Array<{ key: string }>).map((o) => o.key) : p.key)

describe('CommitQueue', () => {
  it('appends a lone write at once, and what queues behind it as one entry, in the order issued', async () => {
    const { queue, appended, release } = recorder()
    const first = queue.submit(async () => put('a'))
    // Checks that finish out of order still commit in the order the writes were issued.
    const checks = ['b', 'c', 'd'].map(async (k, i) => new Promise<Checked>((resolve) => { setTimeout(() => resolve(put(k)), 3 - i) }))
    const later = checks.map(async (check) => queue.submit(async () => check))
    await Promise.all(checks)
    release()
    expect(await Promise.all([first, ...later])).toEqual(['entry-1', 'entry-2', 'entry-2', 'entry-2'])
    expect(appended.map(keysOf)).toEqual(['a', ['b', 'c', 'd']])
  })

  it('a write whose check fails fails alone; the others go in', async () => {
    const { queue, appended, release } = recorder()
    const writes = [queue.submit(async () => put('a')), queue.submit(async () => { throw new TypeError('bad value') }), queue.submit(async () => put('c'))]
    release()
    const settled = await Promise.allSettled(writes)
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(appended.flatMap((p) => [keysOf(p)].flat())).toEqual(['a', 'c'])
  })

  it('splits what queued at the limits of one entry, and never merges an atomic batch', async () => {
    const { queue, appended, release } = recorder()
    release()
    const writes: Array<Promise<string>> = []
    for (let i = 0; i < MAX_BATCH_OPS + 5; i++) writes.push(queue.submit(async () => put(`k${i}`)))
    writes.push(queue.submit(async () => ({ ops: [{ op: 'PUT', key: 'x', value: 1 }, { op: 'DEL', key: 'y', value: null }], bytes: 20, alone: async () => 'never' }), { atomic: true }))
    writes.push(queue.submit(async () => put('last')))
    await Promise.all(writes)
    const sizes = appended.map((p) => (p.op === 'BATCH' ? (p.value as unknown[]).length : 1))
    expect(sizes).toEqual([MAX_BATCH_OPS, 5, 2, 1])
    expect(keysOf(appended[2] as Payload)).toEqual(['x', 'y'])
  })

  it('a refused group is written again write by write, each with its own outcome, in order', async () => {
    const { queue, appended, release } = recorder((p) => p.op === 'BATCH')
    const order: string[] = []
    const alone = (key: string, ok: boolean) => async () => {
      order.push(key)
      if (!ok) throw new Error(`${key} lost its right to be written`)
      return `alone-${key}`
    }
    const blocker = queue.submit(async () => put('a'))
    // Checked a moment later: they queue behind the append of `a`, as one group.
    const later = async (checked: Checked): Promise<Checked> => new Promise((resolve) => { setTimeout(() => resolve(checked), 0) })
    const checks = [later(put('b', 10, alone('b', true))), later(put('c', 10, alone('c', false))), later(put('d', 10, alone('d', true)))]
    const group = checks.map(async (check) => queue.submit(async () => check))
    await Promise.all(checks)
    release()
    expect(await blocker).toBe('entry-1')
    const settled = await Promise.allSettled(group)
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual(['alone-b', 'c lost its right to be written', 'alone-d'])
    expect(order).toEqual(['b', 'c', 'd'])
    expect(appended.map(keysOf)).toEqual(['a'])
  })

  it('an abort before the entry is signed calls the write off', async () => {
    const { queue, appended, release } = recorder()
    release()
    const controller = new AbortController()
    const blocker = queue.submit(async () => put('a'))
    const aborted = queue.submit(async () => put('b'), { signal: controller.signal })
    controller.abort(new DOMException('changed my mind', 'AbortError'))
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' })
    await blocker
    await queue.idle()
    expect(appended.map(keysOf)).toEqual(['a'])
  })
})
