/**
 * One user, two devices, one todo list. The laptop holds the user's root key and delegates
 * to the phone's own key (no secret leaves either device). The laptop creates the list, the
 * phone syncs it, goes offline, both change the list while apart, the phone restarts from
 * its own data directory, reconnects, and the two converge. Then the phone is lost: the
 * laptop revokes its key, and the phone's later writes are refused everywhere.
 */
import { createDidbase, createDidKeyIdentity, type Didbase, type DidIdentity, type DidKeyIdentity, delegatedIdentity, delegateDevice } from '@didbase/sdk'
import { formatList, readList, Todo, type TodoItem, type TodoList } from './todo.ts'
import { until } from './wait.ts'

export interface SharedTodoOptions {
  /** The laptop's data directory (blocks, oplog, peer key). Created if missing. */
  laptopDirectory: string
  /** The phone's data directory. Kept across the phone's restart. */
  phoneDirectory: string
  /** The user's root identity, kept on the laptop. Default: a new `did:key`. */
  identity?: DidIdentity
  /** The phone's own key, kept on the phone. Default: a new `did:key`. */
  phoneKey?: DidKeyIdentity
  /** Receives the story, one line at a time. Default: silent. */
  log?: (line: string) => void
  /** How long to wait for each sync, in ms. Default 30 000. */
  syncTimeout?: number
}

export interface SharedTodoResult {
  /** The user's DID: both devices write for it (every todo's writer). */
  did: string
  /** The phone's key: it signs the phone's entries, delegated by the user's root key. */
  phoneDid: string
  /** Why the phone's write after its key was revoked was refused (the error's name and reason). */
  afterRevocation: { name: string, reason?: string }
  /** The list's address (it commits to the schema and to the writer, the user's DID). */
  address: string
  /** What the phone had once it first synced with the laptop. */
  phoneFirstSync: TodoItem[]
  /** What the phone read from its own disk after restarting, before it wrote or reconnected. */
  phoneAfterRestart: TodoItem[]
  /** The laptop's list while the phone was away, after its own changes. */
  laptopWhileApart: TodoItem[]
  /** The lists once both devices hold the same log (before the phone is revoked). */
  laptop: TodoItem[]
  phone: TodoItem[]
  /** The final heads (latest entry hashes) of each device's log: equal heads, equal logs. */
  heads: { laptop: string[], phone: string[] }
}

// Loopback only: the two "devices" run in one process here.
const LISTEN = ['/ip4/127.0.0.1/tcp/0']

export async function runSharedTodo (options: SharedTodoOptions): Promise<SharedTodoResult> {
  const log = options.log ?? (() => {})
  const say = (who: string, text: string): void => log(`${who.padEnd(7)} ${text}`)
  const timeout = options.syncTimeout ?? 30_000

  // Each device has its own key, made once and kept in its keystore; a real app passes it here.
  const identity = options.identity ?? createDidKeyIdentity()
  const phoneKey = options.phoneKey ?? createDidKeyIdentity()
  say('user', `is ${identity.did} (its root key stays on the laptop)`)
  // The phone shows its DID (a QR code, say); the laptop signs a delegation and sends it back.
  const delegation = await delegateDevice(identity, phoneKey.did, { expiresIn: 30 * 24 * 3600_000 })
  const phoneIdentity = await delegatedIdentity(phoneKey, [delegation])
  say('phone', `has its own key ${phoneKey.did}, delegated by the laptop`)

  const nodes = new Set<Didbase>()
  const start = async (directory: string, as: DidIdentity = identity): Promise<Didbase> => {
    const node = await createDidbase({ identity: as, directory, listen: LISTEN })
    nodes.add(node)
    return node
  }
  const stop = async (node: Didbase): Promise<void> => {
    nodes.delete(node)
    await node.close()
  }

  try {
    const laptop = await start(options.laptopDirectory)
    // Default policy: only the creator's DID may write. The phone writes for that DID, with
    // its own key and the delegation, so it needs no invite or grant.
    const onLaptop = await laptop.keyValue('todos', { schema: Todo })
    await onLaptop.put('milk', { title: 'Buy milk', done: false })
    await onLaptop.put('docs', { title: 'Write docs', done: false })
    say('laptop', `created the list: ${formatList(await readList(onLaptop))}`)

    let phone = await start(options.phoneDirectory, phoneIdentity)
    await phone.dial(laptop.multiaddrs[0]!)
    let onPhone = await phone.keyValue(onLaptop.address, { schema: Todo })
    await until('the phone\'s first sync', async () => sameLog(onLaptop, onPhone), [onPhone], timeout)
    const phoneFirstSync = await readList(onPhone)
    say('phone', `opened the list by address and synced: ${formatList(phoneFirstSync)}`)

    // The app is closed: the phone is offline, its data stays in its directory.
    await stop(phone)
    say('phone', 'went offline (node closed)')

    await onLaptop.put('milk', { title: 'Buy milk', done: true })
    await onLaptop.put('eggs', { title: 'Buy eggs', done: false })
    const laptopWhileApart = await readList(onLaptop)
    say('laptop', `ticked milk and added eggs: ${formatList(laptopWhileApart)}`)

    // Same directory, same key: the list opens from disk, with no peer to ask.
    phone = await start(options.phoneDirectory, phoneIdentity)
    onPhone = await phone.keyValue(onLaptop.address, { schema: Todo })
    const phoneAfterRestart = await readList(onPhone)
    say('phone', `restarted offline, read from its disk: ${formatList(phoneAfterRestart)}`)

    await onPhone.put('bread', { title: 'Buy bread', done: false })
    await onPhone.put('docs', { title: 'Write docs', done: true })
    say('phone', `added bread and ticked docs, still offline: ${formatList(await readList(onPhone))}`)

    await phone.dial(laptop.multiaddrs[0]!)
    say('phone', 'reconnected to the laptop')
    await until('both devices to converge', async () => sameLog(onLaptop, onPhone), [onLaptop, onPhone], timeout)

    const laptop2 = await readList(onLaptop)
    const phone2 = await readList(onPhone)
    const heads = { laptop: await onLaptop.heads(), phone: await onPhone.heads() }

    // The phone is lost: the laptop takes its key back. What the phone writes on top of that is refused.
    await onLaptop.revokeDevice(phoneKey.did)
    say('laptop', 'revoked the lost phone\'s key')
    await until('the phone to receive the revocation', async () => JSON.stringify(await onPhone.heads()) === JSON.stringify(await onLaptop.heads()), [onPhone], timeout)
    let afterRevocation: { name: string, reason?: string } = { name: 'none' }
    try {
      await onPhone.put('thief', { title: 'Written by whoever has the phone', done: false })
    } catch (err) {
      afterRevocation = { name: (err as Error).name, reason: (err as { reason?: string }).reason }
    }
    say('phone', `tried to write after the revocation: ${afterRevocation.name} (${afterRevocation.reason ?? 'no reason'})`)

    const result: SharedTodoResult = {
      did: identity.did,
      phoneDid: phoneKey.did,
      afterRevocation,
      address: onLaptop.address,
      phoneFirstSync,
      phoneAfterRestart,
      laptopWhileApart,
      laptop: laptop2,
      phone: phone2,
      heads
    }
    say('laptop', `has ${formatList(result.laptop)}`)
    say('phone', `has ${formatList(result.phone)}`)
    return result
  } finally {
    await Promise.allSettled([...nodes].map(stop))
  }
}

/** Same heads (so the same log) and the same todos read back on both devices. */
async function sameLog (a: TodoList, b: TodoList): Promise<boolean> {
  const [headsA, headsB, listA, listB] = await Promise.all([a.heads(), b.heads(), readList(a), readList(b)])
  return JSON.stringify(headsA) === JSON.stringify(headsB) && JSON.stringify(listA) === JSON.stringify(listB)
}
