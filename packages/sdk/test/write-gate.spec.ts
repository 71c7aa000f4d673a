/** The write gate with a stand-in policy whose check the test controls: what an abort does at each step. */
import type { AccessPolicy } from '@didbase/access/internal'
import { describe, expect, it } from 'vitest'
import { WriteGate } from '../src/replica/write-gate.js'

function gate (check: AccessPolicy['check']): { gate: WriteGate, appended: number[] } {
  const appended: number[] = []
  const policy = { mutable: true, ownership: false, check } as unknown as AccessPolicy
  return { gate: new WriteGate({ did: 'did:key:z6Mkwriter', signer: 'did:key:z6Mkwriter', address: '/orbitdb/zdpuGate', policy, heads: async () => [], closed: () => false }), appended }
}

describe('WriteGate', () => {
  it('an abort during a slow policy check (a causal past being fetched) fails the write at once, and nothing is appended', async () => {
    let checking: () => void = () => {}
    const started = new Promise<void>((resolve) => { checking = resolve })
    const { gate: g, appended } = gate(async () => {
      checking()
      await new Promise(() => {})
    })
    const controller = new AbortController()
    const write = g.write({ op: 'PUT', key: 'k', value: 1 }, async () => { appended.push(1); return 'hash' }, { signal: controller.signal })
    await started
    controller.abort(new Error('called off'))
    await expect(write).rejects.toThrow('called off')
    expect(appended).toEqual([])
  })

  it('appends once the checks pass, and refuses values that cannot be stored before asking the policy', async () => {
    let asked = 0
    const { gate: g, appended } = gate(async () => { asked++ })
    await expect(g.write({ op: 'PUT', key: 'k', value: 1 }, async () => { appended.push(1); return 'hash' })).resolves.toBe('hash')
    await expect(g.write({ op: 'PUT', key: 'k', value: () => {} }, async () => { appended.push(2); return 'hash' })).rejects.toMatchObject({ name: 'InvalidValueError' })
    expect(appended).toEqual([1])
    expect(asked).toBe(1)
  })
})
