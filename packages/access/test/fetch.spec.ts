/** The deadline on a block fetched from peers: it ends with the fetch, not 30 s later. */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { withFetchDeadline } from '../src/controller/fetch.js'

afterEach(() => { vi.useRealTimers() })

describe('withFetchDeadline', () => {
  it('aborts a fetch with no answer after 30 s with a TimeoutError', async () => {
    vi.useFakeTimers()
    const fetching = withFetchDeadline(undefined, async (signal) => await new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => { reject(signal.reason) })
    }))
    const failed = expect(fetching).rejects.toMatchObject({ name: 'TimeoutError' })
    await vi.advanceTimersByTimeAsync(30_000)
    await failed
  })

  it('aborts as soon as the database stops, with its reason', async () => {
    const stopping = new AbortController()
    const fetching = withFetchDeadline(stopping.signal, async (signal) => await new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => { reject(signal.reason) })
    }))
    stopping.abort(new Error('closing'))
    await expect(fetching).rejects.toThrow('closing')
  })

  it('leaves no timer and no listener behind once the fetch answered', async () => {
    vi.useFakeTimers()
    const stopping = new AbortController()
    let inner: AbortSignal | undefined
    expect(await withFetchDeadline(stopping.signal, async (signal) => { inner = signal; return 'block' })).toBe('block')
    expect(vi.getTimerCount()).toBe(0)
    stopping.abort()
    expect(inner?.aborted).toBe(false)
  })
})
