/**
 * Declarations for the part of `@orbitdb/core` 4.0.0 that didbase uses.
 * OrbitDB ships no types and `@orbitdb/core-types` targets OrbitDB 3.
 *
 * Shipped with @didbase/access (export `./orbitdb-core`) because our published `.d.ts`
 * name these types: the entry points of @didbase/access and @didbase/sdk reference this
 * file, so a consumer type-checks with `skipLibCheck: false`. It needs no `@types/node`,
 * so a browser app type-checks too.
 */
declare module '@orbitdb/core' {
  /** The part of Node's EventEmitter that OrbitDB's `events` is used through. */
  export interface EventEmitter {
    on: (event: string, listener: (...args: any[]) => void) => this
    once: (event: string, listener: (...args: any[]) => void) => this
    off: (event: string, listener: (...args: any[]) => void) => this
    removeListener: (event: string, listener: (...args: any[]) => void) => this
    emit: (event: string, ...args: unknown[]) => boolean
  }

  export interface Clock {
    id: string
    time: number
  }

  /** A decoded oplog entry as OrbitDB hands it around. */
  export interface LogEntry<P = unknown> {
    id: string
    payload: P
    next: string[]
    refs: string[]
    clock: Clock
    v: number
    key: string
    identity: string
    sig: string
    hash: string
  }

  export interface OrbitIdentity {
    id: string
    publicKey: string
    hash: string
    bytes: Uint8Array
    type: string
    signatures: { id: string, publicKey: string }
    sign: (identity: OrbitIdentity, data: Uint8Array) => Promise<string>
    verify: (signature: string, publicKey: string, data: Uint8Array) => Promise<boolean>
  }

  export interface OrbitIdentities {
    keystore: { close: () => Promise<void> }
    createIdentity: (options?: unknown) => Promise<OrbitIdentity>
    verifyIdentity: (identity: OrbitIdentity) => Promise<boolean>
    getIdentity: (hash: string) => Promise<OrbitIdentity | undefined>
    sign: (identity: OrbitIdentity, data: Uint8Array) => Promise<string>
    verify: (signature: string, publicKey: string, data: Uint8Array) => Promise<boolean>
  }

  export interface AccessControllerInstance {
    type: string
    address: string
    canAppend: (entry: LogEntry) => Promise<boolean>
    close?: () => Promise<void>
  }

  export interface AccessControllerParams {
    orbitdb: { open: unknown, identity: OrbitIdentity, ipfs: HeliaLike }
    identities: OrbitIdentities
    address?: string
    name?: string
  }

  export type AccessControllerFactory = (params: AccessControllerParams) => Promise<AccessControllerInstance>

  export interface AccessControllerType {
    (options?: Record<string, unknown>): AccessControllerFactory
    type: string
  }

  export interface HeliaLike {
    libp2p: unknown
    blockstore: unknown
  }

  export interface Log {
    id: string
    identity: OrbitIdentity
    heads: () => Promise<LogEntry[]>
    values: () => Promise<LogEntry[]>
    get: (hash: string) => Promise<LogEntry | undefined>
    has: (hash: string) => Promise<boolean>
    joinEntry: (entry: LogEntry) => Promise<boolean>
    append: (data: unknown, options?: { referencesCount: number }) => Promise<LogEntry>
    access: AccessControllerInstance
    iterator: (options?: { amount?: number }) => AsyncIterable<LogEntry>
    traverse: () => AsyncIterable<LogEntry>
  }

  export interface Database {
    address: string
    name: string
    type: string
    meta: Record<string, unknown>
    identity: OrbitIdentity
    log: Log
    access: AccessControllerInstance
    events: EventEmitter
    peers: Set<string>
    sync: { start: () => Promise<void>, stop: () => Promise<void> }
    close: () => Promise<void>
    drop: () => Promise<void>
    addOperation: (op: unknown) => Promise<string>
  }

  export interface KeyValueDatabase extends Database {
    put: (key: string, value: unknown) => Promise<string>
    set: (key: string, value: unknown) => Promise<string>
    del: (key: string) => Promise<string>
    get: (key: string) => Promise<unknown>
    iterator: (options?: { amount?: number }) => AsyncIterable<{ key: string, value: unknown, hash: string }>
    all: () => Promise<Array<{ key: string, value: unknown, hash: string }>>
  }

  export interface DocumentsDatabase extends Database {
    indexBy: string
    put: (doc: Record<string, unknown>) => Promise<string>
    del: (key: string) => Promise<string>
    get: (key: string) => Promise<{ key: string, value: unknown, hash: string } | undefined>
    query: (fn: (doc: any) => boolean) => Promise<unknown[]>
    iterator: (options?: { amount?: number }) => AsyncIterable<{ key: string, value: unknown, hash: string }>
    all: () => Promise<Array<{ key: string, value: unknown, hash: string }>>
  }

  export interface EventsDatabase extends Database {
    add: (value: unknown) => Promise<string>
    get: (hash: string) => Promise<unknown>
    iterator: (options?: { amount?: number, gt?: string, gte?: string, lt?: string, lte?: string }) => AsyncIterable<{ value: unknown, hash: string }>
    all: () => Promise<Array<{ value: unknown, hash: string }>>
  }

  export type DatabaseType = (options?: Record<string, unknown>) => (params: Record<string, unknown>) => Promise<Database>

  export interface OpenOptions {
    type?: string
    meta?: Record<string, unknown>
    sync?: boolean
    Database?: (params: Record<string, unknown>) => Promise<Database>
    AccessController?: AccessControllerFactory
    entryStorage?: Storage
    indexStorage?: Storage
    signal?: AbortSignal
  }

  /** OrbitDB's storage interface (entries, heads, indexes). */
  export interface Storage {
    put: (hash: string, data: Uint8Array) => Promise<void>
    get: (hash: string, signal?: AbortSignal) => Promise<Uint8Array | undefined>
    del: (hash: string) => Promise<void>
    iterator: () => AsyncIterable<[string, Uint8Array]>
    merge: (other: Storage) => Promise<void>
    clear: () => Promise<void>
    close: () => Promise<void>
    persist?: (hash: string) => Promise<void>
  }

  export function IPFSBlockStorage (options: { ipfs: unknown, pin?: boolean, timeout?: number }): Promise<Storage>
  export function LRUStorage (options?: { size?: number }): Promise<Storage>
  export function ComposedStorage (first: Storage, second: Storage): Promise<Storage>
  export function LevelStorage (options?: { path?: string, valueEncoding?: string }): Promise<Storage>

  export interface OrbitDB {
    id: string
    identity: OrbitIdentity
    open: (address: string, options?: OpenOptions) => Promise<Database>
    stop: () => Promise<void>
  }

  export function createOrbitDB (options: {
    ipfs: HeliaLike
    id?: string
    identity?: OrbitIdentity
    identities?: OrbitIdentities
    directory?: string
  }): Promise<OrbitDB>

  export const KeyValueIndexed: DatabaseType
  export const KeyValue: DatabaseType
  export const Documents: DatabaseType
  export const Events: DatabaseType
  export function useAccessController (controller: AccessControllerType): void
  export function isValidAddress (address: string): boolean
  export const IPFSAccessController: AccessControllerType
  export const Entry: {
    create: (identity: OrbitIdentity, id: string, payload: unknown, encrypt?: unknown, clock?: Clock, next?: string[], refs?: string[]) => Promise<LogEntry>
    encode: (entry: Omit<LogEntry, 'hash'> & { hash?: string }) => Promise<{ hash: string, bytes: Uint8Array }>
    decode: (bytes: Uint8Array) => Promise<LogEntry>
    verify: (identities: { verify: OrbitIdentities['verify'] }, entry: LogEntry) => Promise<boolean>
  }
}
