/**
 * The page's didbase side, apart from the DOM: one node per browser profile (its DID and
 * data kept in IndexedDB), kept connected to the always-on peer, and one shared list. Lists
 * are private: only members (the admin, and DIDs it invited) read them; the peer keeps and
 * serves them without reading a todo.
 * `onChange` gets a fresh snapshot after anything that changes what the page shows.
 */
import { createDidbase, type Didbase, type KeyValueDatabase } from '@didbase/sdk'
import { newTodoId, readList, Todo, type TodoItem, type TodoList } from './todo.ts'

export type PeerState = 'connecting' | 'online' | 'offline'

export interface Snapshot {
  did: string
  peer: PeerState
  /** What the page knows of the list's sync with the peer, in words. */
  sync: string
  address?: string
  /** Whether this DID can read the list (private lists: members only). */
  member: boolean
  canWrite: boolean
  isAdmin: boolean
  items: TodoItem[]
  /** Writes this page tried that were refused: the error's name and message. */
  refused: Array<{ name: string, message: string }>
  /** Entries from other replicas that this page rejected. */
  rejected: Array<{ did: string, reason: string }>
  /** Open connections to other browsers, over WebRTC. */
  browsers: number
}

export interface PeerInfo {
  /** The peer's WebSocket multiaddr, with /p2p/<id>. */
  multiaddr: string
}

const RECONNECT_MS = 1_000

/** The peer's transport address (`/ip4/…/tcp/…/ws`): what it and the browsers it relays for start with. */
function throughPeer (peer: PeerInfo): string {
  return peer.multiaddr.split('/p2p/')[0] ?? peer.multiaddr
}

/** The list's todos; undefined when this DID is not a member of the private list (yet). */
async function readMembersOnly (list: TodoList): Promise<TodoItem[] | undefined> {
  try {
    return await readList(list)
  } catch (err) {
    if ((err as { reason?: string }).reason === 'not-a-reader') return undefined
    throw err
  }
}

export class TodoApp {
  readonly #didbase: Didbase
  readonly #peer: PeerInfo
  readonly #onChange: (s: Snapshot) => void
  #list: TodoList | undefined
  #state: Snapshot
  #stopped = false

  private constructor (didbase: Didbase, peer: PeerInfo, onChange: (s: Snapshot) => void) {
    this.#didbase = didbase
    this.#peer = peer
    this.#onChange = onChange
    this.#state = { did: didbase.did, peer: 'connecting', sync: 'no list open', member: false, canWrite: false, isAdmin: false, items: [], refused: [], rejected: [], browsers: 0 }
  }

  static async start (peer: PeerInfo, onChange: (s: Snapshot) => void): Promise<TodoApp> {
    const didbase = await createDidbase({
      // IndexedDB databases named "browser-todo/…": the DID and the lists survive reloads.
      directory: 'browser-todo',
      // libp2p in browsers refuses plain ws:// and private addresses by default; this demo's
      // peer is on localhost, so it is allowed, and so are browsers reached through it.
      // Nothing else: anyone can announce addresses, and a page must not probe the LAN.
      // A deployed app dials wss:// on a public name and keeps the default.
      connectionGater: { denyDialMultiaddr: async (ma) => !ma.toString().startsWith(throughPeer(peer)) },
      // No public STUN servers: browsers on one machine or LAN reach each other directly.
      iceServers: []
    })
    const app = new TodoApp(didbase, peer, onChange)
    app.#watchConnections()
    void app.#keepConnected()
    return app
  }

  get snapshot (): Snapshot {
    return this.#state
  }

  /** A new private list that only this DID administers, kept by the peer (which cannot read it) for everyone invited. */
  async create (): Promise<string> {
    const list = await this.#didbase.keyValue<Todo>(`todos-${newTodoId()}`, { schema: Todo, acl: true, private: true })
    await this.#use(list)
    await this.#didbase.pin(list.address, this.#peer.multiaddr)
    return list.address
  }

  async open (address: string): Promise<void> {
    await this.#use(await this.#didbase.keyValue<Todo>(address, { schema: Todo }))
  }

  /** Open the list an invite is for and redeem it; resolves to the list's address. */
  async accept (token: string): Promise<string> {
    const list = await this.#didbase.accept(token)
    await this.#use(await this.#didbase.keyValue<Todo>(list.address, { schema: Todo }))
    return list.address
  }

  async invite (did: string): Promise<string> {
    return this.#requireList().invite(did.trim(), { role: 'writer' })
  }

  /** Resolves to false if the write was refused (the page shows why). */
  async add (title: string): Promise<boolean> {
    return this.#refusable(async () => this.#requireList().put(newTodoId(), { title, done: false }))
  }

  async toggle (item: TodoItem): Promise<boolean> {
    return this.#refusable(async () => this.#requireList().put(item.id, { title: item.title, done: !item.done }))
  }

  async stop (): Promise<void> {
    this.#stopped = true
    await this.#didbase.close()
  }

  #requireList (): TodoList {
    if (this.#list === undefined) throw new Error('no list is open')
    return this.#list
  }

  /** Run a write; a refusal (access, schema) is shown on the page, and nothing is written. */
  async #refusable (write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write()
      return true
    } catch (err) {
      const e = err as Error
      this.#set({ refused: [{ name: e.name, message: e.message }, ...this.#state.refused].slice(0, 5) })
      return false
    }
  }

  async #use (list: KeyValueDatabase<Todo>): Promise<void> {
    if (this.#list === list) return
    // The list the page leaves stops syncing here; the peer keeps it.
    const previous = this.#list
    this.#list = list
    await previous?.close()
    // Events of a list the page has left are ignored.
    const current = (): boolean => this.#list === list
    list.addEventListener('update', () => { if (current()) void this.#refresh() })
    list.addEventListener('entry:rejected', (e) => {
      if (current()) this.#set({ rejected: [{ did: e.detail.did, reason: e.detail.reason }, ...this.#state.rejected].slice(0, 5) })
    })
    list.addEventListener('sync:progress', (e) => {
      const { received, expected, done } = e.detail
      if (current() && !done) this.#set({ sync: `catching up: ${received} of ${expected}` })
    })
    list.addEventListener('peer:join', (e) => {
      if (current() && e.detail.peerId === this.#peerId()) this.#set({ sync: 'synced with the peer' })
    })
    this.#set({ address: list.address, items: [], sync: list.syncedPeers.includes(this.#peerId()) ? 'synced with the peer' : 'waiting for the peer' })
    await this.#refresh()
  }

  async #refresh (): Promise<void> {
    const list = this.#list
    if (list === undefined) return
    const [items, canWrite, isAdmin] = await Promise.all([readMembersOnly(list), list.canWrite(), list.isAdmin()])
    this.#set({ items: items ?? [], member: items !== undefined, canWrite, isAdmin })
  }

  #peerId (): string {
    return this.#peer.multiaddr.split('/p2p/').at(-1) ?? ''
  }

  #watchConnections (): void {
    const libp2p = this.#didbase.helia.libp2p
    const count = (): void => {
      const peerId = this.#peerId()
      const toPeer = libp2p.getConnections().some((c) => c.remotePeer.toString() === peerId && c.status === 'open')
      const browsers = libp2p.getConnections().filter((c) => c.remoteAddr.toString().includes('/webrtc') && c.status === 'open').length
      const peer: PeerState = toPeer ? 'online' : this.#state.peer === 'connecting' ? 'connecting' : 'offline'
      this.#set({ peer, browsers, ...(peer === 'offline' && this.#list !== undefined ? { sync: 'offline: writes are kept here and sent when the peer returns' } : {}) })
    }
    libp2p.addEventListener('connection:open', count)
    libp2p.addEventListener('connection:close', count)
  }

  /** Dial the peer whenever there is no connection to it: at start, and after it went away. */
  async #keepConnected (): Promise<void> {
    while (!this.#stopped) {
      const connected = this.#didbase.helia.libp2p.getConnections().some((c) => c.remotePeer.toString() === this.#peerId())
      if (!connected) {
        try {
          await this.#didbase.dial(this.#peer.multiaddr, { signal: AbortSignal.timeout(5_000) })
        } catch {
          if (this.#state.peer === 'connecting') this.#set({ peer: 'offline' })
        }
      }
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS))
    }
  }

  #set (change: Partial<Snapshot>): void {
    this.#state = { ...this.#state, ...change }
    this.#onChange(this.#state)
  }
}
