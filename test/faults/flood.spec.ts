/**
 * Flood gates (issue 25, item 7). A victim replica runs in its own Node process
 * (test/fixtures/victim-process.js), so that its RSS is its own; a creator, an attacker and
 * an invitee run here, all over loopback TCP, each connected to the victim only. For each
 * kind of hostile entry the attacker sends FLOOD of them as fast as the victim's connection
 * takes them, while the creator writes one entry every 100 ms and the invitee redeems an
 * invite halfway through. The victim's memory stays bounded, every honest write arrives
 * quickly, the redeem is accepted, and nothing hostile changes the victim's roles, values
 * or heads.
 *
 * In `npm run test:faults` (DIDBASE_FAULTS=long): 20,000 entries of each kind, RSS growth
 * (what the victim holds after a full collection; the peak is printed beside it) under 64 MiB
 * and median honest latency under 100 ms are asserted. Otherwise
 * a few hundred, and only the structural facts. The figures are printed either way.
 * DIDBASE_FLOOD (entries per kind), DIDBASE_FLOOD_PADDED (entries of kind e),
 * DIDBASE_FLOOD_MAX_S (longest a flood is sent), DIDBASE_FLOOD_HEAP_DIR (where the victim writes a
 * heap snapshot after the flood) and DIDBASE_FLOOD_MAX_RSS_MIB (RSS of the
 * victim or of this process past which a flood stops) override the defaults; a flood cut
 * short says so in its figures.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { createDeviceIdentity, createDidKeyIdentity, type DidIdentity } from '@didbase/access'
import { aclPayload } from '@didbase/access/internal'
import type { Didbase, KeyValueDatabase } from '@didbase/sdk'
import { type Database, Entry, type LogEntry } from '@orbitdb/core'
import { base58btc } from 'multiformats/bases/base58'
import { base64url } from 'multiformats/bases/base64'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { afterEach, describe, expect, it } from 'vitest'
import { peer, tempDir, waitFor } from '../src/peers.js'
import { LONG } from '../src/replicas.js'

const FLOOD = Number(process.env.DIDBASE_FLOOD ?? (LONG ? 20_000 : 500))
/** Entries of 4 MiB cost about 30 ms each to sign here: the short run sends fewer of them. */
const FLOOD_PADDED = Number(process.env.DIDBASE_FLOOD_PADDED ?? process.env.DIDBASE_FLOOD ?? (LONG ? 20_000 : 20))
/** Longest a flood is sent; a flood cut short says so in its figures. */
const FLOOD_MAX_MS = Number(process.env.DIDBASE_FLOOD_MAX_S ?? (LONG ? 720 : 30)) * 1000
/**
 * A flood stops early once the victim's RSS, or this process's (which holds the creator and
 * the invitee, and stores what the victim forwards to them), passes this: the machine is shared.
 */
const MAX_RSS = Number(process.env.DIDBASE_FLOOD_MAX_RSS_MIB ?? 6_144) * 2 ** 20
/** One honest write every this many ms, for at least HONEST_MIN_MS. */
const HONEST_EVERY_MS = 100
const HONEST_MIN_MS = LONG ? 20_000 : 2_000
/**
 * After HONEST_MIN_MS, one every this many ms: a flood slowed down by the victim (it bans the
 * attacker's peers) lasts minutes, and the victim's memory should grow with the flood, not
 * with thousands of honest writes.
 */
const HONEST_LATER_EVERY_MS = 1_000
/** How long, after the flood, every honest write and the redeem may take to arrive. */
const SETTLE_MS = LONG ? 120_000 : 15_000
/** Longest the victim may take to answer once the flood is over. */
const CALL_MS = Number(process.env.DIDBASE_FLOOD_CALL_S ?? (LONG ? 420 : 40)) * 1000
/** Longest each part of the victim's final report may take before it says 'stuck'. */
const STEP_MS = LONG ? 60_000 : 5_000
const RSS_LIMIT_MIB = 64
const MEDIAN_LIMIT_MS = 100
/** An entry this size still fits one gossipsub message (4 MiB, RPC framing included). */
const PADDING = 4 * 1024 * 1024 - 16 * 1024
const MIB = 2 ** 20
/** DIDBASE_FLOOD_DEBUG=1: say what each run is doing, as it does it. */
const step = (what: string): void => { if (process.env.DIDBASE_FLOOD_DEBUG !== undefined) console.log(`${new Date().toISOString()} flood: ${what}`) }

type Db = KeyValueDatabase<number>
/** The invitee's redeem: its entry, when it was issued, or why it could not be. */
type Redeemed = { hash?: string, startedAt: number, error?: string }
type Crafted = { hash: string, bytes: Uint8Array }
interface Memory { settled?: number, rss: number, heapUsed: number, heapTotal: number, external: number, arrayBuffers: number, peak: number, loopDelayMaxMs: number, loopDelayP99Ms: number, cpuMs: number }
interface Final {
  /** Undefined where the victim gave up on reading it (`took` says 'stuck'). */
  roles?: { admins: string[], writers: string[], readers?: string[] }
  heads?: string[]
  values?: Record<string, unknown>
  hostileInLog?: number
  hostileInLogSample?: string[]
  hostileBlocks?: number
  hostileHeads?: number
  rejected: Record<string, number>
  appliedOthers: number
  took: Record<string, number | 'stuck'>
  /** Gossiped messages the victim's topic validator was still judging, the oldest for how long, and its results. */
  judging: number
  oldestJudgingMs: number
  verdicts: Record<string, number>
  pending: string[]
  /** The victim's gossipsub peers: connections, its streams to and from each, and each one's score. */
  gossip: Record<string, { connections: number, inbound: boolean, outbound?: string, score?: number }>
}

const script = fileURLToPath(new URL('../fixtures/victim-process.js', import.meta.url))
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

/** The victim replica's process, over IPC. */
class Victim {
  did = ''
  peerId = ''
  multiaddr = ''
  readonly #child: ChildProcess
  #next = 0
  readonly #pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()

  private constructor (child: ChildProcess) {
    this.#child = child
    child.on('message', (m: { id?: number, ok?: boolean, result?: unknown, error?: string }) => {
      if (m.id === undefined) return
      const waiting = this.#pending.get(m.id)
      this.#pending.delete(m.id)
      if (m.ok === true) waiting?.resolve(m.result)
      else waiting?.reject(new Error(`victim: ${m.error}`))
    })
    child.on('exit', (code, signal) => {
      for (const { reject } of this.#pending.values()) reject(new Error(`the victim exited (${signal ?? code})`))
      this.#pending.clear()
    })
  }

  static async start (directory: string): Promise<Victim> {
    const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--expose-gc', ...(process.env.DIDBASE_FLOOD_PROF_DIR !== undefined ? ['--cpu-prof', '--cpu-prof-dir', process.env.DIDBASE_FLOOD_PROF_DIR] : [])] })
    running.add(child)
    const victim = new Victim(child)
    await once(child, 'message')
    const info = await victim.call<{ did: string, peerId: string, multiaddrs: string[] }>('start', { directory })
    victim.did = info.did
    victim.peerId = info.peerId
    victim.multiaddr = info.multiaddrs[0] as string
    return victim
  }

  /** A command; one that never answers fails after `timeoutMs` instead of hanging the test. */
  async call<T> (cmd: string, args: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.#next++
    let timer: NodeJS.Timeout | undefined
    return new Promise<T>((resolve, reject) => {
      timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`victim: ${cmd} did not answer in ${timeoutMs / 1000} s`))
      }, timeoutMs)
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.#child.send({ id, cmd, ...args })
    }).finally(() => clearTimeout(timer))
  }

  /** Tell the victim to time the arrival of entry `hash` under `name`. Answers nothing, so a busy victim holds up no one. */
  expectEntry (name: string, hash: string): void {
    this.#child.send({ note: 'expect', name, hash })
  }

  async arrivals (): Promise<Record<string, number>> {
    return this.call('arrivals')
  }

  /** Wait until the victim holds `hash`. */
  async holds (name: string, hash: string, what: string, timeoutMs = 30_000): Promise<void> {
    this.expectEntry(name, hash)
    await waitFor(async () => (await this.arrivals())[name] !== undefined, what, timeoutMs)
  }

  /** With `collect`, `settled` is the RSS after a full garbage collection: what the victim holds. */
  async memory (reset = false, timeoutMs = 60_000, collect = false): Promise<Memory> {
    return this.call('memory', { reset, collect }, timeoutMs)
  }

  /** CPU time the process has used so far, in ms, read by the kernel: it answers even when the victim does not. */
  async cpuMs (): Promise<number | undefined> {
    const stat = await readFile(`/proc/${this.#child.pid}/stat`, 'utf8').catch(() => undefined)
    if (stat === undefined) return undefined
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  }

  /** Its RSS in bytes, read from the kernel (answers even when the victim is too busy to). */
  async rss (): Promise<number> {
    const status = await readFile(`/proc/${this.#child.pid}/status`, 'utf8').catch(() => '')
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024
  }

  /** No clean close: nothing it holds is needed afterwards, and a victim still busy could take long. */
  async kill (): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = once(this.#child, 'exit')
      // Profiled, it exits by itself so that its CPU profile is written; otherwise no clean close.
      if (process.env.DIDBASE_FLOOD_PROF_DIR !== undefined) this.#child.send({ exit: true })
      else this.#child.kill('SIGKILL')
      await exited
    }
  }
}

const raw = (db: Db): Database => (db as unknown as { db: Database }).db

async function clockOf (db: Db, hash: string): Promise<number> {
  return ((await raw(db).log.get(hash)) as LogEntry).clock.time
}

/** An entry signed by `signer` for `claimedDid` (itself unless told), with exactly the clock and links given. */
async function craft (address: string, payload: unknown, signer: DidIdentity, next: string[], time: number, claimedDid = signer.did): Promise<Crafted> {
  const identity = {
    id: claimedDid,
    hash: claimedDid,
    publicKey: signer.did.slice('did:key:'.length),
    sign: async (_: unknown, data: Uint8Array) => base64url.baseEncode(await signer.sign(data))
  }
  const entry = await Entry.create(identity as never, address, payload, undefined, { id: identity.publicKey, time }, next, [])
  return Entry.encode(entry)
}

/** The hash of a block nobody has. */
function missingHash (): string {
  return CID.createV1(0x71, Digest.create(0x12, new Uint8Array(randomBytes(32)))).toString(base58btc)
}

/** What the attacker uses of gossipsub: its outbound streams too, to see that they still take data and to wait for them to drain. */
interface OutboundStream { writeStatus?: string, writableNeedsDrain?: boolean, onDrain?: (o: { signal: AbortSignal }) => Promise<void> }
interface PubSub {
  publish: (topic: string, data: Uint8Array) => Promise<unknown>
  getSubscribers: (topic: string) => Array<{ toString: () => string }>
  streamsOutbound: Map<string, { rawStream: OutboundStream }>
}

/**
 * Publishes raw entries on the database's topic as fast as the connection to the victim
 * takes them: it waits for the outbound stream to drain (so that the attacker's own buffer
 * stays small) and lets this process's other work run every few messages. When the victim
 * drops the attacker's stream (it bans a peer that keeps sending refused entries), the
 * attacker goes on as a new peer, as a real one would: peer ids cost nothing. Every peer it
 * uses serves the first one's blocks.
 */
class Pusher {
  sent = 0
  errors = 0
  reconnects = 0
  /** Peer ids the attacker used: one more each time the victim refused it. */
  peerIds = 1
  #attacker: Didbase
  #pubsub: PubSub
  readonly #first: Didbase

  constructor (attacker: Didbase, readonly victimPeerId: string, readonly victimAddress: string, readonly address: string) {
    this.#first = attacker
    this.#attacker = attacker
    this.#pubsub = pubsubOf(attacker)
  }

  #outbound (): OutboundStream | undefined {
    return this.#pubsub.streamsOutbound.get(this.victimPeerId)?.rawStream
  }

  async ready (timeoutMs = 30_000): Promise<void> {
    await waitFor(() => this.#outbound()?.writeStatus === 'writable' && this.#pubsub.getSubscribers(this.address).some((p) => p.toString() === this.victimPeerId), 'the victim to subscribe to the database topic', timeoutMs)
  }

  /** The victim cut this peer off (it bans a peer whose entries it keeps refusing): go on as a new one, serving the same blocks. */
  async #reconnect (): Promise<void> {
    this.reconnects++
    const previous = this.#attacker
    this.#attacker = await peer({ memory: true, blockstore: this.#first.helia.blockstore })
    this.#pubsub = pubsubOf(this.#attacker)
    this.peerIds++
    if (previous !== this.#first) await previous.close()
    await this.#attacker.dial(this.victimAddress).catch(() => {})
    await this.ready(10_000).catch(() => {})
  }

  async send (bytes: Uint8Array): Promise<void> {
    if (this.#outbound()?.writeStatus !== 'writable') await this.#reconnect()
    try {
      await this.#pubsub.publish(this.address, bytes)
      this.sent++
    } catch {
      this.errors++
    }
    const out = this.#outbound()
    if (out?.writableNeedsDrain === true && out.onDrain !== undefined) await out.onDrain({ signal: AbortSignal.timeout(60_000) }).catch(() => {})
    if ((this.sent + this.errors) % 16 === 0) await yieldToLoop()
  }
}

const pubsubOf = (node: Didbase): PubSub => (node.helia.libp2p.services as unknown as { pubsub: PubSub }).pubsub

/** The honest writes: one every HONEST_EVERY_MS (HONEST_LATER_EVERY_MS after HONEST_MIN_MS), each named to the victim so that it times its arrival. */
class HonestWriter {
  readonly acked: Array<{ name: string, hash: string, sentAt: number, putMs: number }> = []
  readonly failures: string[] = []
  #stop = false
  readonly done: Promise<void>

  constructor (db: Db, victim: Victim, prefix: string) {
    const started = Date.now()
    this.done = (async () => {
      for (let i = 0; !this.#stop; i++) {
        const name = `${prefix}${i}`
        const sentAt = Date.now()
        try {
          const hash = await db.put(name, i)
          this.acked.push({ name, hash, sentAt, putMs: Date.now() - sentAt })
          victim.expectEntry(name, hash)
        } catch (err) {
          this.failures.push(`${name}: ${(err as Error).message.slice(0, 200)}`)
        }
        await sleep(Math.max(0, sentAt + (sentAt - started < HONEST_MIN_MS ? HONEST_EVERY_MS : HONEST_LATER_EVERY_MS) - Date.now()))
      }
    })()
  }

  /** Stop writing; a write still pending after `waitMs` counts as failed. */
  async stop (waitMs: number): Promise<void> {
    this.#stop = true
    const finished = await Promise.race([this.done.then(() => true), sleep(waitMs).then(() => false)])
    if (!finished) this.failures.push(`a write was still pending ${waitMs / 1000} s after the last one was issued`)
  }
}

function percentile (sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]
}

const mib = (bytes: number): number => Math.round((bytes / MIB) * 10) / 10

/** The nodes of one run: the victim (its own process), and the creator, attacker and invitee here, each connected to the victim only. */
async function scene (kind: string) {
  const [victim, creator, attacker, invitee] = await Promise.all([Victim.start(await tempDir()), peer({ memory: true }), peer({ memory: true }), peer({ memory: true })])
  step('victim and peers started')
  for (const node of [creator, attacker, invitee]) await node.dial(victim.multiaddr)
  const db = await creator.keyValue<number>(`flood-${kind}`, { acl: true })
  const seed = await db.put('seed', 0)
  step('db created')
  await victim.call('open', { address: db.address, watch: creator.did })
  step('victim opened')
  await victim.holds('seed', seed, 'the creator\'s first write on the victim')
  step('victim holds seed')
  const token = await db.invite(invitee.did, { role: 'writer' })
  const onInvitee = await invitee.keyValue<number>(db.address)
  step('invitee opened')
  const pusher = new Pusher(attacker, victim.peerId, victim.multiaddr, db.address)
  await pusher.ready()
  step('pusher ready')
  return { victim, creator, attacker, invitee, db, token, onInvitee, pusher }
}
type Scene = Awaited<ReturnType<typeof scene>>

/** What the attacker sends: `count` entries, made on demand by `entry(i)`; `prime` is sent before the warm-up. */
interface Flood {
  count: number
  entry: (i: number) => Promise<Crafted>
  prime?: Crafted[]
  /** Writers besides the invitee the victim holds in the end. */
  writers: string[]
  /** Keys besides the honest ones the victim holds in the end. */
  otherKeys: Record<string, unknown>
  /** Whether the flood's entries are allowed (a member's sessions): then they may change heads. */
  allowed?: boolean
}

/** Make every entry first (off the clock), except for entries too large to hold at once. */
async function precrafted (count: number, make: (i: number) => Promise<Crafted>): Promise<(i: number) => Promise<Crafted>> {
  const all: Crafted[] = []
  for (let i = 0; i < count; i++) {
    all.push(await make(i))
    if (i % 64 === 63) await yieldToLoop()
  }
  return async (i) => all[i] as Crafted
}

/** Entries in a chain on `root` (each links the one before, clock one past it); the attacker serves their blocks, so the victim can fetch any of them. */
async function chain (s: Scene, root: string, count: number, make: (i: number, next: string[], time: number) => Promise<Crafted>): Promise<(i: number) => Promise<Crafted>> {
  let next = [root]
  let time = await clockOf(s.db, root)
  const entries = await precrafted(count, async (i) => {
    time++
    const entry = await make(i, next, time)
    next = [entry.hash]
    await s.attacker.helia.blockstore.put(CID.parse(entry.hash), entry.bytes)
    return entry
  })
  return entries
}

/** A current head of the creator's and its clock. */
async function headOf (db: Db): Promise<{ head: string, time: number }> {
  const [head] = await db.heads()
  return { head: head as string, time: await clockOf(db, head as string) }
}

const revokeDevice = (did: string, at: number, extra: Record<string, unknown> = {}) => ({ op: 'ACL', key: null, value: { action: 'revoke-device', did, at, ...extra } })

const KINDS: Record<string, { title: string, prepare: (s: Scene) => Promise<Flood> }> = {
  a: {
    title: 'a stranger\'s revoke-device entries in a chain',
    prepare: async (s) => {
      const mallory = createDidKeyIdentity()
      const { head } = await headOf(s.db)
      const target = createDidKeyIdentity().did
      const at = Date.now()
      const entry = await chain(s, head, FLOOD, async (i, next, time) => craft(s.db.address, aclPayload({ action: 'revoke-device', did: target, at: at + i }), mallory, next, time))
      return { count: FLOOD, entry, writers: [], otherKeys: {} }
    }
  },
  b: {
    title: 'a stranger\'s sibling revoke-device entries, all on one head',
    prepare: async (s) => {
      const mallory = createDidKeyIdentity()
      const { head, time } = await headOf(s.db)
      const target = createDidKeyIdentity().did
      const at = Date.now()
      const entry = await precrafted(FLOOD, async (i) => craft(s.db.address, aclPayload({ action: 'revoke-device', did: target, at: at + i }), mallory, [head], time + 1))
      return { count: FLOOD, entry, writers: [], otherKeys: {} }
    }
  },
  c: {
    title: 'a stranger\'s entries naming 64 missing links each, after one of its entries',
    prepare: async (s) => {
      const mallory = createDidKeyIdentity()
      const { head, time } = await headOf(s.db)
      // The stranger's entry that came first (the issue's "after one of its entries was accepted").
      const prime = [await craft(s.db.address, aclPayload({ action: 'revoke-device', did: createDidKeyIdentity().did, at: Date.now() }), mallory, [head], time + 1)]
      const entry = await precrafted(FLOOD, async (i) => craft(s.db.address, { op: 'PUT', key: `missing-${i}`, value: i }, mallory, Array.from({ length: 64 }, missingHash), time + 2))
      return { count: FLOOD, entry, prime, writers: [], otherKeys: {} }
    }
  },
  d: {
    title: 'a member revoked earlier: its writes in a chain on its revocation',
    prepare: async (s) => {
      const member = createDidKeyIdentity()
      const grant = await s.db.grant('writer', member.did)
      await s.victim.holds('grant', grant, 'the member\'s grant on the victim')
      // One of its writes is accepted first: it is a known writer there.
      const { head, time } = await headOf(s.db)
      const first = await craft(s.db.address, { op: 'PUT', key: 'member', value: 1 }, member, [head], time + 1)
      await s.pusher.send(first.bytes)
      await s.victim.holds('member', first.hash, 'the member\'s write on the victim')
      const revocation = await s.db.revoke('writer', member.did)
      await s.victim.holds('revocation', revocation, 'the member\'s revocation on the victim')
      const entry = await chain(s, revocation, FLOOD, async (i, next, t) => craft(s.db.address, { op: 'PUT', key: `revoked-${i}`, value: i }, member, next, t))
      return { count: FLOOD, entry, writers: [], otherKeys: { member: 1 } }
    }
  },
  e: {
    title: `a stranger's revoke-device entries padded to ${mib(PADDING)} MiB, all on one head`,
    prepare: async (s) => {
      const mallory = createDidKeyIdentity()
      const { head, time } = await headOf(s.db)
      const target = createDidKeyIdentity().did
      const padding = new Uint8Array(PADDING).fill(7)
      const at = Date.now()
      // Made as they are sent: 20,000 of them would take 80 GiB.
      const entry = async (i: number) => craft(s.db.address, revokeDevice(target, at + i, { padding }), mallory, [head], time + 1)
      return { count: FLOOD_PADDED, entry, writers: [], otherKeys: {} }
    }
  },
  f: {
    title: 'a member\'s sessions for many throwaway keys, in a chain',
    prepare: async (s) => {
      const member = createDidKeyIdentity()
      const grant = await s.db.grant('writer', member.did)
      await s.victim.holds('grant', grant, 'the member\'s grant on the victim')
      const entry = await chain(s, grant, FLOOD, async (_, next, time) => {
        const device = await createDeviceIdentity(member, { scope: [s.db.address], expiresIn: 3_600_000 })
        return craft(s.db.address, aclPayload({ action: 'session', proof: [...device.proof] as never, at: Date.now() }), device.signer, next, time, member.did)
      })
      return { count: FLOOD, entry, writers: [member.did], otherKeys: {}, allowed: true }
    }
  }
}

describe('flood gates: a victim replica in its own process', () => {
  for (const [kind, { title, prepare }] of Object.entries(KINDS)) {
    it(`(${kind}) ${title}: memory stays bounded, honest writes and an invitee's redeem arrive, nothing hostile changes the victim`, async () => {
      step(`(${kind}) scene`)
      const s = await scene(kind)
      step(`(${kind}) prepare`)
      const { victim, db, pusher } = s
      const preparing = Date.now()
      const flood = await prepare(s)
      const preparedMs = Date.now() - preparing
      for (const entry of flood.prime ?? []) await pusher.send(entry.bytes)
      // A few honest writes first, so that the baseline is a replica at work.
      const warmUp = new HonestWriter(db, victim, 'warm-')
      await sleep(LONG ? 2_000 : 500)
      await warmUp.stop(SETTLE_MS)
      step(`(${kind}) warm-up`)
      await waitFor(async () => {
        const arrived = await victim.arrivals()
        return warmUp.acked.every((w) => arrived[w.name] !== undefined)
      }, 'the warm-up writes on the victim')
      const warmArrived = await victim.arrivals()
      const warmLatencies = warmUp.acked.map((w) => (warmArrived[w.name] as number) - w.sentAt).sort((x, y) => x - y)
      if (process.env.DIDBASE_FLOOD_HEAP_DIR !== undefined) await victim.call('snapshot', { path: `${process.env.DIDBASE_FLOOD_HEAP_DIR}/flood-${kind}-before.heapsnapshot` }, CALL_MS)
      const before = await victim.memory(true, 60_000, true)
      step(`(${kind}) flood`)

      const started = Date.now()
      const honest = new HonestWriter(db, victim, 'honest-')
      const hostile: string[] = []
      let redeem: Promise<Redeemed> | undefined
      let capped: string | undefined
      let reported = started
      for (let i = 0; i < flood.count; i++) {
        if (i === Math.floor(flood.count / 2)) {
          const startedAt = Date.now()
          redeem = s.onInvitee.redeem(s.token).then(
            (hash) => {
              victim.expectEntry('redeem', hash)
              return { hash, startedAt }
            },
            (err: Error) => ({ startedAt, error: err.message.slice(0, 300) })
          )
        }
        const entry = await flood.entry(i)
        hostile.push(entry.hash)
        await pusher.send(entry.bytes)
        if (Date.now() - reported > 10_000) {
          reported = Date.now()
          step(`(${kind}) ${i + 1} sent, ${pusher.reconnects} reconnects`)
        }
        if (Date.now() - started > FLOOD_MAX_MS) {
          capped = `after ${FLOOD_MAX_MS / 1000} s`
          break
        }
        if (i % 100 === 99) {
          const [victimRss, ownRss] = [await victim.rss(), process.memoryUsage.rss()]
          if (Math.max(victimRss, ownRss) > MAX_RSS) {
            capped = `at ${mib(MAX_RSS)} MiB of RSS (victim ${mib(victimRss)}, this process ${mib(ownRss)})`
            break
          }
        }
      }
      const floodMs = Date.now() - started
      step(`(${kind}) flood sent`)
      const sentEntries = hostile.length
      // Cut short before halfway: the redeem goes now.
      redeem ??= s.onInvitee.redeem(s.token).then((hash) => {
        victim.expectEntry('redeem', hash)
        return { hash, startedAt: Date.now() }
      }, (err: Error) => ({ startedAt: Date.now(), error: err.message }))
      await sleep(Math.max(0, started + HONEST_MIN_MS - Date.now()))
      await honest.stop(SETTLE_MS)
      step(`(${kind}) redeem`)
      const redeemed: Redeemed = await Promise.race([redeem, sleep(SETTLE_MS).then(() => ({ startedAt: 0, error: `still pending ${SETTLE_MS / 1000} s after the honest writes stopped` }))])
      step(`(${kind}) settle`)

      // Every honest write and the redeem arrive, or the deadline passes.
      const settling = Date.now()
      let arrived: Record<string, number> = {}
      await waitFor(async () => {
        arrived = await victim.arrivals()
        return honest.acked.every((w) => arrived[w.name] !== undefined) && (redeemed.hash === undefined || arrived.redeem !== undefined)
      }, 'the honest writes and the redeem on the victim', SETTLE_MS).catch(() => {})
      const settleMs = Date.now() - settling
      // A victim that does not answer: busy (how busy, by the kernel's count), or waiting on nothing.
      const cpuFrom = await victim.cpuMs()
      const answered = await victim.memory(false, 2_000).then(() => true, () => false)
      if (!answered) {
        await sleep(2_000)
        const cpuTo = await victim.cpuMs()
        console.log(`flood (${kind}): the victim does not answer; it used ${cpuFrom === undefined || cpuTo === undefined ? '?' : cpuTo - cpuFrom} ms of CPU in the last ${((Date.now() - settling - settleMs) / 1000).toFixed(1)} s`)
      }
      // A victim still busy answers late: its figures are printed all the same.
      const after = await victim.memory(false, CALL_MS, true).catch(() => undefined)
      if (process.env.DIDBASE_FLOOD_HEAP_DIR !== undefined) {
        const written = await victim.call<{ path: string }>('snapshot', { path: `${process.env.DIDBASE_FLOOD_HEAP_DIR}/flood-${kind}.heapsnapshot` }, CALL_MS).catch((err: Error) => ({ path: `not written: ${err.message}` }))
        console.log(`flood (${kind}): heap snapshot ${written.path}`)
      }
      step(`(${kind}) final`)
      const final = await victim.call<Final>('final', { hostile, stepMs: STEP_MS }, CALL_MS).catch((err: Error) => {
        console.log(`flood (${kind}): the victim did not say what it holds: ${err.message}`)
        return undefined
      })
      step(`(${kind}) checks`)

      // Where an honest write's time went: reaching the victim's validator, being judged there, then joined.
      type Span = { start: number, end: number }
      type Trace = { judged: Record<string, Span>, joined: Record<string, Span>, slowJoins: unknown[], slowJoinCount: number }
      const trace = await victim.call<Trace>('judged', { hashes: honest.acked.map((w) => w.hash) }, CALL_MS).catch(() => undefined)
      const median = (values: number[]): number | undefined => percentile(values.sort((x, y) => x - y), 0.5)
      const traced = honest.acked.flatMap((w) => {
        const j = trace?.judged[w.hash]
        return j === undefined ? [] : [{ ...j, sentAt: w.sentAt, at: arrived[w.name], join: trace?.joined[w.hash] }]
      })
      const honestPath = {
        toValidatorMs: median(traced.map((t) => t.start - t.sentAt)),
        judgingMs: median(traced.map((t) => t.end - t.start)),
        toJoinMs: median(traced.flatMap((t) => (t.join === undefined ? [] : [t.join.start - t.end]))),
        joinMs: median(traced.flatMap((t) => (t.join === undefined ? [] : [t.join.end - t.join.start]))),
        joinedToArrivedMs: median(traced.flatMap((t) => (t.join === undefined || t.at === undefined ? [] : [t.at - t.join.end]))),
        notViaValidator: honest.acked.length - traced.length,
        slowJoinCount: trace?.slowJoinCount,
        dids: { creator: s.creator.did, invitee: s.invitee.did, attacker: s.attacker.did },
        slowJoins: trace?.slowJoins
      }
      const latencies = honest.acked.flatMap((w) => (arrived[w.name] !== undefined ? [(arrived[w.name] as number) - w.sentAt] : [])).sort((x, y) => x - y)
      const lost = honest.acked.filter((w) => arrived[w.name] === undefined).map((w) => w.name)
      const figures = {
        suite: 'flood',
        kind,
        entries: sentEntries,
        ...(capped !== undefined ? { capped, of: flood.count } : {}),
        publishErrors: pusher.errors,
        attackerReconnects: pusher.reconnects,
        attackerPeerIds: pusher.peerIds,
        preparedS: Math.round(preparedMs / 100) / 10,
        floodS: Math.round(floodMs / 100) / 10,
        settleS: Math.round(settleMs / 100) / 10,
        rssBeforeMiB: mib(before.rss),
        rssAfterMiB: after === undefined ? undefined : mib(after.rss),
        rssGrowthMiB: after === undefined ? undefined : mib(after.rss - before.rss),
        rssPeakGrowthMiB: after === undefined ? undefined : mib(after.peak - before.rss),
        /** After a full collection at both ends: what the flood left the victim holding. */
        rssHeldGrowthMiB: after?.settled === undefined || before.settled === undefined ? undefined : mib(after.settled - before.settled),
        heapBeforeMiB: mib(before.heapUsed),
        heapAfterMiB: after === undefined ? undefined : mib(after.heapUsed),
        // What V8 keeps committed for its heap, used or not.
        heapTotalBeforeMiB: mib(before.heapTotal),
        heapTotalAfterMiB: after === undefined ? undefined : mib(after.heapTotal),
        // Buffers still referenced; RSS beyond heap and these is memory the allocator kept.
        arrayBuffersAfterMiB: after === undefined ? undefined : mib(after.arrayBuffers),
        externalAfterMiB: after === undefined ? undefined : mib(after.external),
        victimCpuS: after === undefined ? undefined : Math.round(after.cpuMs / 100) / 10,
        victimLoopDelayMaxMs: after?.loopDelayMaxMs,
        honestWrites: honest.acked.length,
        honestFailed: honest.failures.length,
        honestLost: lost.length,
        latencyMs: { median: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), max: latencies.at(-1) },
        honestPath,
        honestPutMs: { median: percentile(honest.acked.map((w) => w.putMs).sort((x, y) => x - y), 0.5), max: Math.max(0, ...honest.acked.map((w) => w.putMs)) },
        latencyBeforeFloodMs: { median: percentile(warmLatencies, 0.5), max: warmLatencies.at(-1) },
        redeem: redeemed.error !== undefined ? `failed: ${redeemed.error}` : arrived.redeem !== undefined ? `accepted in ${arrived.redeem - redeemed.startedAt} ms` : 'not accepted',
        victimRejected: final?.rejected,
        victimAppliedOthers: final?.appliedOthers,
        hostileInLog: final?.hostileInLog,
        hostileBlocksStored: final?.hostileBlocks,
        victimHeads: final?.heads?.length,
        finalTookMs: final?.took,
        victimStillJudging: final === undefined ? undefined : { messages: final.judging, oldestMs: final.judging > 0 ? final.oldestJudgingMs : 0 },
        validatorResults: final?.verdicts,
        // A connection dropped under the flood and never dialled again loses every later write.
        connectedToVictim: Object.fromEntries((['creator', 'invitee', 'attacker'] as const).map((name) => [name, s[name].helia.libp2p.getConnections().filter((c) => c.remotePeer.toString() === victim.peerId).length])),
        victimGossip: final === undefined ? undefined : Object.fromEntries(Object.entries(final.gossip).map(([id, state]) => [id === s.creator.peerId ? 'creator' : id === s.invitee.peerId ? 'invitee' : id === s.attacker.peerId ? 'attacker' : id, state]))
      }
      console.log(JSON.stringify(figures))
      console.log(`flood (${kind}): ${sentEntries}${capped !== undefined ? ` of ${flood.count} (capped ${capped})` : ''} entries from ${pusher.peerIds} peer id(s) in ${figures.floodS} s; victim RSS ${figures.rssBeforeMiB} -> ${figures.rssAfterMiB} MiB (growth ${figures.rssGrowthMiB}, at peak ${figures.rssPeakGrowthMiB}, held after a full GC ${figures.rssHeldGrowthMiB}); honest latency median ${figures.latencyMs.median} / p95 ${figures.latencyMs.p95} / max ${figures.latencyMs.max} ms; ${lost.length} of ${honest.acked.length} honest writes lost, ${honest.failures.length} failed; redeem ${figures.redeem}`)
      if (honest.failures.length > 0) console.log(`flood (${kind}): failed honest writes, first ones: ${JSON.stringify(honest.failures.slice(0, 3))}`)

      // Structural facts, in every run.
      expect.soft(honest.failures, 'honest writes that failed').toEqual([])
      expect.soft(lost.slice(0, 10), `honest writes lost (first ten of ${lost.length})`).toEqual([])
      expect.soft(redeemed.error, 'the invitee\'s redeem').toBeUndefined()
      expect.soft(arrived.redeem, 'the redeem accepted on the victim').toBeDefined()
      expect(final, 'what the victim holds, once the flood is over').toBeDefined()
      if (final !== undefined) {
        expect.soft(Object.entries(final.took).filter(([, ms]) => ms === 'stuck').map(([what]) => what), 'what the victim could not read (stuck)').toEqual([])
        expect.soft([...(final.roles?.admins ?? [])].sort(), 'admins on the victim').toEqual([s.creator.did])
        expect.soft([...(final.roles?.writers ?? [])].sort(), 'writers on the victim').toEqual([...flood.writers, ...(arrived.redeem !== undefined ? [s.invitee.did] : [])].sort())
        const expected: Record<string, unknown> = { seed: 0, ...flood.otherKeys }
        for (const [i, w] of warmUp.acked.entries()) expected[w.name] = i
        for (const [i, w] of honest.acked.entries()) expected[w.name] = i
        const values = final.values ?? {}
        const unexpected = Object.keys(values).filter((k) => !(k in expected))
        expect.soft(unexpected.slice(0, 10), 'keys on the victim no honest writer wrote').toEqual([])
        expect.soft(Object.entries(expected).filter(([k, v]) => values[k] !== v).map(([k]) => k).slice(0, 10), 'honest keys whose value differs on the victim').toEqual([])
        if (flood.allowed !== true) {
          expect.soft(final.hostileInLog, 'hostile entries in the victim\'s log').toBe(0)
          expect.soft(final.hostileHeads, 'hostile entries among the victim\'s heads').toBe(0)
        }
      }
      if (LONG) {
        // What the flood leaves the victim holding (after a full collection); the peak is printed beside it.
        expect.soft(figures.rssHeldGrowthMiB ?? Number.POSITIVE_INFINITY, `the victim's RSS growth, held after a full GC, MiB (at most ${RSS_LIMIT_MIB})`).toBeLessThan(RSS_LIMIT_MIB)
        expect.soft(figures.latencyMs.median ?? Number.POSITIVE_INFINITY, `median honest latency, ms (at most ${MEDIAN_LIMIT_MS})`).toBeLessThan(MEDIAN_LIMIT_MS)
      }
      await victim.kill()
      step(`(${kind}) stopped`)
    }, LONG ? 1_800_000 : 90_000)
  }
})
