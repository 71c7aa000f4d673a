/**
 * Replicas as separate Node processes (test/fixtures/replica-process.js), driven over IPC,
 * for fault suites: partitions are closed connections, crashes are SIGKILL.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'
import { tempDir } from './peers.js'

/** Longest a command may take; only `addMany` of a long run comes near it (the load suite uses `startWriting`). */
const CALL_TIMEOUT = Number(process.env.DIDBASE_FAULTS === 'long' ? 600_000 : 40_000)
const script = fileURLToPath(new URL('../fixtures/replica-process.js', import.meta.url))
const running = new Set<ChildProcess>()

afterEach(async () => {
  await Promise.allSettled([...running].map(async (child) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
  }))
  running.clear()
})

export interface Writing {
  attempted: number
  acknowledged: number
  finished: boolean
  /** The error that stopped the writes, if one did. */
  error?: string
  attemptedValues?: string[]
  acknowledgedValues?: string[]
  refusedValues?: string[]
}

export interface ReplicaState {
  heads: string[]
  values: string[]
}

export class Replica {
  readonly name: string
  readonly directory: string
  did = ''
  peerId = ''
  multiaddr = ''
  #child: ChildProcess | undefined
  #next = 0
  readonly #pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()

  constructor (name: string, directory: string) {
    this.name = name
    this.directory = directory
  }

  /** This replica's DID, then those of its extra writers. */
  dids: string[] = []

  /**
   * Start the process and its node on `directory` (again, after a crash: same DID and peer
   * id), with `extraWriters` more DIDs writing beside it from the same process.
   */
  async start (extraWriters = 0): Promise<void> {
    // DIDBASE_CPU_PROF=<dir>: write a CPU profile of each replica process there.
    const profile = process.env.DIDBASE_CPU_PROF
    const child = fork(script, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: profile !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [] })
    running.add(child)
    this.#child = child
    child.on('message', (m: { id?: number, ok?: boolean, result?: unknown, error?: string }) => {
      if (m.id === undefined) return
      const waiting = this.#pending.get(m.id)
      this.#pending.delete(m.id)
      if (m.ok === true) waiting?.resolve(m.result)
      else waiting?.reject(new Error(`${this.name}: ${m.error}`))
    })
    child.on('exit', (code, signal) => {
      for (const { reject } of this.#pending.values()) reject(new Error(`${this.name} exited (${signal ?? code})`))
      this.#pending.clear()
    })
    await once(child, 'message')
    const info = await this.call<{ did: string, dids: string[], peerId: string, multiaddrs: string[] }>('start', { directory: this.directory, extraWriters })
    this.did = info.did
    this.dids = info.dids
    this.peerId = info.peerId
    this.multiaddr = info.multiaddrs[0] as string
  }

  async call<T> (cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const child = this.#child
    if (child === undefined) throw new Error(`${this.name} is not running`)
    const id = this.#next++
    // A command that never answers is a finding: name it, instead of hanging the test.
    let timer: NodeJS.Timeout | undefined
    return new Promise<T>((resolve, reject) => {
      timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`${this.name}: ${cmd} did not answer in ${CALL_TIMEOUT / 1000} s`))
      }, CALL_TIMEOUT)
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      child.send({ id, cmd, ...args })
    }).finally(() => clearTimeout(timer))
  }

  async create (name: string, writers: string[]): Promise<string> {
    return (await this.call<{ address: string }>('create', { name, writers })).address
  }

  async open (address: string): Promise<void> {
    await this.call('open', { address })
  }

  async add (value: string): Promise<string> {
    return (await this.call<{ hash: string }>('add', { value })).hash
  }

  async addMany (prefix: string, count: number): Promise<void> {
    await this.call('addMany', { prefix, count })
  }

  /** Start `addMany`'s writes without waiting for them; `writing` tells how far they are. */
  async startWriting (prefix: string, count: number): Promise<void> {
    await this.call('startWriting', { prefix, count })
  }

  /** Start `bursts` bursts of `count` adds issued at once, without waiting; every `badEvery`th cannot be stored. */
  async startBursts (prefix: string, count: number, bursts: number, badEvery: number): Promise<void> {
    await this.call('startBursts', { prefix, count, bursts, badEvery })
  }

  /** How many of the started writes were attempted and acknowledged; `values` lists them (and those refused). */
  async writing (values = false): Promise<Writing> {
    return this.call('writing', { values })
  }

  /** Walk the stored log, offline: how many entries its heads reach, how many fail verification, how many are not stored. */
  async verify (): Promise<{ entries: number, bad: number, missing: number, heads: string[] }> {
    return this.call('verify')
  }

  async dial (other: Replica): Promise<void> {
    await this.call('dial', { multiaddr: other.multiaddr })
  }

  /** Close connections to `others` and refuse new ones, both ways on this side, until `heal`. */
  async cut (others: Replica[]): Promise<void> {
    await this.call('cut', { peerIds: others.map((o) => o.peerId) })
  }

  async heal (): Promise<void> {
    await this.call('heal')
  }

  async connectedTo (): Promise<string[]> {
    return (await this.call<{ peerIds: string[] }>('connections')).peerIds
  }

  /** Every value, read by walking the whole log: on a large log, do not poll this. */
  async state (): Promise<ReplicaState> {
    return this.call<ReplicaState>('state')
  }

  /** Share of the time the process was busy, and counts of failed exchanges and refused entries. */
  async stats (): Promise<{ busy: number, troubles: Record<string, number> }> {
    return this.call('stats')
  }

  async heads (): Promise<string[]> {
    return (await this.call<{ heads: string[] }>('heads')).heads
  }

  /** Stop cleanly. */
  async stop (): Promise<void> {
    const child = this.#child
    if (child === undefined) return
    await this.call('close').catch(() => {})
    child.disconnect()
    if (child.exitCode === null) await once(child, 'exit')
    this.#child = undefined
  }

  /** Crash: SIGKILL, no chance to flush or close anything. */
  async kill (): Promise<void> {
    const child = this.#child
    if (child === undefined) return
    child.kill('SIGKILL')
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
    this.#child = undefined
  }
}

/** Dial every pair once. */
export async function mesh (replicas: Replica[]): Promise<void> {
  for (const [i, a] of replicas.entries()) {
    for (const b of replicas.slice(i + 1)) await a.dial(b)
  }
}

/** `count` replica processes (each with `extraWriters` more DIDs) in temporary directories, fully connected, on one event log all of them may write. */
export async function sharedLog (count: number, name: string, extraWriters = 0): Promise<{ replicas: Replica[], address: string }> {
  const replicas = await Promise.all([...Array(count).keys()].map(async (i) => {
    const r = new Replica(`r${i}`, await tempDir())
    await r.start(extraWriters)
    return r
  }))
  const [first, ...rest] = replicas as [Replica, ...Replica[]]
  const address = await first.create(name, replicas.flatMap((r) => r.dids))
  await mesh(replicas)
  for (const r of rest) await r.open(address)
  return { replicas, address }
}

/** A small seeded generator (mulberry32), so a failing run can be replayed from its seed. */
export function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The seed for this run: DIDBASE_FAULT_SEED to replay one, else a fresh one. */
export function faultSeed (): number {
  const given = process.env.DIDBASE_FAULT_SEED
  return given !== undefined ? Number(given) : Math.floor(Math.random() * 2 ** 31)
}

/** Whether the long versions run (`npm run test:faults`). */
export const LONG = process.env.DIDBASE_FAULTS === 'long'

/** Jepsen-style set check of a final read against what was attempted and acknowledged. */
export function checkSet (attempted: Set<string>, acknowledged: Set<string>, final: Set<string>): { lost: string[], unexpected: string[], recovered: number, ok: number } {
  const lost = [...acknowledged].filter((v) => !final.has(v))
  const unexpected = [...final].filter((v) => !attempted.has(v))
  const recovered = [...final].filter((v) => attempted.has(v) && !acknowledged.has(v)).length
  return { lost, unexpected, recovered, ok: [...acknowledged].filter((v) => final.has(v)).length }
}
