/**
 * The command line, parsed and checked without importing anything networked: every usage
 * error is found here, before a node is started or libp2p, Helia and OrbitDB are loaded.
 * (`find` leaves one kind to the SDK's query checks, which load with them: what a
 * --where-json filter or an --after cursor holds. find.ts checks those before a node starts.)
 */
import { parseArgs } from 'node:util'
import { isRole, type Role } from '@didbase/access/identity'
import type { Schema } from '@didbase/schemas'
import { DEFAULT_PEER_LISTEN, readPeerConfig } from './peer-config.js'
import { UsageError } from './errors.js'
import { FIND_FLAGS, FIND_USAGE, type FindArgs, findArgs, joinDashValues } from './find-args.js'

export const USAGE = `didbase <command> [options]

  init                                   create the identity in --dir (or show it)
  id                                     show the user DID, and the device key when it is delegated
  device add <did:key> [--expires 30d] [--scope address,...]   on the root: let a device key write
                                         for this DID; prints a token for the device
  device use <token>                     on the device: write for the user that delegated to this key
  device list                            devices this root delegated to
  device revoke <address> <did:key>      take a device key back in a database
  create <keyvalue|documents|events> <name> [--schema file.ipldsch --root Type] [--writers did,...] [--acl] [--ownership]
                                         [--private [--readers did,...]]  values only members read (with --acl,
                                         admins grant and revoke readers; every revocation rotates the key)
  ls                                     the databases in --dir: name, type, address, policy, entries held
  put <address> <key> <json>             key-value: set a key; documents: <json> is the document (key ignored)
  get <address> <key>
  del <address> <key>
  add <address> <json>                   event log: append an event
  list <address>                         every record, with its writer
  query <address> <json>                 documents whose fields equal those given, e.g. '{"done":false}'
  find <address> [--where EXPR]... [--sort [-]FIELD,...] [--limit N] [--after CURSOR] [--count|--explain]
                                         key-value and documents: the records that match, sorted, one JSON
                                         object a line; the next page's cursor on stderr (didbase find --help)
  grant|revoke <address> <admin|writer|reader> <did>       reader: private databases
  rotate-key <address>                   private ACL database: seal what follows under a new key
  invite <address> <did> [--role writer|reader|admin] [--expires 7d]   prints a token
  accept <token>                         open the database the token is for and redeem it
  sync <address> --peer <multiaddr>      fetch a database from a peer and keep it in --dir (progress bar)
  pin <address> --peer <multiaddr>       ask a didbase peer to keep and serve a database
  peer [--listen ma,...] [--serve address,...] [--creators did,...] [--no-relay] [--config peer.json]
                                         stay online: keep and serve databases to peers while writers
                                         are away (those given, those served before from --dir, and
                                         those pinned by clients when --creators created them); relay
                                         for browsers

options: --dir <path> (default ./.didbase)  --peer <multiaddr> (fetch from this peer)  --json  --help
exit codes: 0 done, 1 bad usage (or query), 2 refused (access, schema, invite, delegation, value, pin), 3 not found, 4 other`

export const DEFAULT_DIR = './.didbase'

const OPTIONS = {
  dir: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  schema: { type: 'string' },
  root: { type: 'string' },
  writers: { type: 'string' },
  acl: { type: 'boolean', default: false },
  ownership: { type: 'boolean', default: false },
  private: { type: 'boolean', default: false },
  readers: { type: 'string' },
  role: { type: 'string', default: 'writer' },
  expires: { type: 'string' },
  peer: { type: 'string' },
  scope: { type: 'string' },
  listen: { type: 'string' },
  serve: { type: 'string' },
  creators: { type: 'string' },
  'no-relay': { type: 'boolean', default: false },
  config: { type: 'string' },
  where: { type: 'string', multiple: true },
  'where-json': { type: 'string', multiple: true },
  sort: { type: 'string', multiple: true },
  limit: { type: 'string' },
  after: { type: 'string' },
  count: { type: 'boolean', default: false },
  explain: { type: 'boolean', default: false },
  index: { type: 'string', multiple: true }
} as const

export type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS, allowPositionals: true }>>['values']

export interface CommandLine {
  flags: Flags
  positionals: string[]
  /** The data directory of every command but `peer`, whose config file may name one. */
  dir: string
}

/** Throws UsageError for an unknown or malformed flag. */
export function parseCommandLine (argv: string[]): CommandLine {
  try {
    const { values: flags, positionals } = parseArgs({ args: joinDashValues(argv), allowPositionals: true, options: OPTIONS })
    return { flags, positionals, dir: flags.dir ?? DEFAULT_DIR }
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

export type DatabaseKind = 'keyvalue' | 'documents' | 'events'

export interface PeerSettings {
  directory: string
  listen: string[]
  peers: string[]
  serve: string[]
  creators: string[]
  relay: boolean
}

/** A command line checked in full: what to do, with every argument in its type. */
export type Command =
  | { name: 'help', topic?: 'find' }
  | { name: 'init' }
  | { name: 'id' }
  | { name: 'ls' }
  | { name: 'create', kind: DatabaseKind, database: string, schema?: Schema, writers?: string[], readers?: string[], acl: boolean, ownership: boolean, private: boolean }
  | { name: 'put', address: string, key: string, value: unknown }
  | { name: 'add', address: string, value: unknown }
  | { name: 'get' | 'del', address: string, key: string }
  | { name: 'list', address: string }
  | { name: 'query', address: string, match: Record<string, unknown> }
  | ({ name: 'find', address: string } & FindArgs)
  | { name: 'grant' | 'revoke', address: string, role: Role, did: string }
  | { name: 'rotate-key', address: string }
  | { name: 'device-add', did: string, expiresIn: number, scope?: string[] }
  | { name: 'device-use', token: string }
  | { name: 'device-list' }
  | { name: 'device-revoke', address: string, did: string }
  | { name: 'invite', address: string, did: string, role: Role, expiresIn: number }
  | { name: 'accept', token: string }
  | { name: 'sync' | 'pin', address: string, peer: string }
  | { name: 'peer', settings: PeerSettings }

export async function parseCommand ({ flags, positionals }: CommandLine): Promise<Command> {
  const name = positionals[0]
  if (flags.help || name === undefined) return name === 'find' ? { name: 'help', topic: 'find' } : { name: 'help' }
  if (name !== 'find') {
    const stray = FIND_FLAGS.find((f) => flags[f] !== undefined && flags[f] !== false)
    if (stray !== undefined) throw new UsageError(`--${stray} is for didbase find`)
  }
  const arg = (index: number, what: string): string => {
    const value = positionals[index]
    if (value === undefined) throw new UsageError(`missing <${what}>`)
    return value
  }
  switch (name) {
    case 'init':
    case 'id':
    case 'ls':
      return { name }
    case 'create': {
      const kind = arg(1, 'keyvalue|documents|events')
      const database = arg(2, 'name')
      if (kind !== 'keyvalue' && kind !== 'documents' && kind !== 'events') throw new UsageError(`unknown database type ${kind}; use keyvalue, documents or events`)
      if (flags.readers !== undefined && !flags.private) throw new UsageError('--readers is for private databases: add --private')
      return {
        name,
        kind,
        database,
        ...(flags.schema !== undefined ? { schema: await schemaFile(flags.schema, flags.root) } : {}),
        ...(flags.writers !== undefined ? { writers: list(flags.writers) } : {}),
        ...(flags.readers !== undefined ? { readers: list(flags.readers) } : {}),
        acl: flags.acl,
        ownership: flags.ownership,
        private: flags.private
      }
    }
    case 'put':
      return { name, address: arg(1, 'address'), key: arg(2, 'key'), value: json(arg(3, 'json'), '<json>') }
    case 'add':
      return { name, address: arg(1, 'address'), value: json(arg(2, 'json'), '<json>') }
    case 'get':
    case 'del':
      return { name, address: arg(1, 'address'), key: arg(2, 'key') }
    case 'list':
      return { name, address: arg(1, 'address') }
    case 'query': {
      const address = arg(1, 'address')
      const match = json(arg(2, 'json'), '<json>')
      if (typeof match !== 'object' || match === null || Array.isArray(match)) throw new UsageError(`<json> must be an object of fields to match, e.g. '{"done":false}'`)
      return { name, address, match: match as Record<string, unknown> }
    }
    case 'find': {
      const address = positionals[1]
      if (address === undefined) throw new UsageError('missing <address>', FIND_USAGE)
      return { name, address, ...findArgs(flags) }
    }
    case 'grant':
    case 'revoke':
      return { name, address: arg(1, 'address'), role: role(arg(2, 'admin|writer|reader')), did: arg(3, 'did') }
    case 'rotate-key':
      return { name, address: arg(1, 'address') }
    case 'device': {
      const sub = arg(1, 'add|use|list|revoke')
      if (sub === 'add') {
        const did = arg(2, 'did:key')
        if (!did.startsWith('did:key:')) throw new UsageError('device add takes the device\'s did:key (run didbase id on the device)')
        return { name: 'device-add', did, expiresIn: duration(flags.expires ?? '30d'), ...(flags.scope !== undefined ? { scope: list(flags.scope) } : {}) }
      }
      if (sub === 'use') return { name: 'device-use', token: arg(2, 'token') }
      if (sub === 'list') return { name: 'device-list' }
      if (sub === 'revoke') return { name: 'device-revoke', address: arg(2, 'address'), did: arg(3, 'did:key') }
      throw new UsageError(`unknown device command ${sub}; use add, use, list or revoke`)
    }
    case 'invite': {
      const [address, did] = [arg(1, 'address'), arg(2, 'did')]
      return { name, address, did, role: role(flags.role), expiresIn: duration(flags.expires ?? '7d') }
    }
    case 'accept':
      return { name, token: arg(1, 'token') }
    case 'sync':
    case 'pin': {
      const address = arg(1, 'address')
      if (flags.peer === undefined) throw new UsageError(`${name} needs --peer <multiaddr>, e.g. --peer /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo… (the address a didbase peer prints)`)
      return { name, address, peer: flags.peer }
    }
    case 'peer':
      return { name, settings: await peerSettings(flags) }
    default:
      throw new UsageError(`unknown command ${name}`)
  }
}

function role (text: string): Role {
  if (!isRole(text)) throw new UsageError(`unknown role ${text}; use admin, writer or reader`)
  return text
}

function json (text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new UsageError(`${what} must be JSON, e.g. '{"title":"milk"}' (got ${text})`)
  }
}

function duration (text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text)
  if (m === null) throw new UsageError(`--expires takes a number and a unit: 30m, 12h, 7d (got ${text})`)
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd']
}

function list (text: string): string[] {
  return text.split(',').map((a) => a.trim()).filter(Boolean)
}

async function schemaFile (path: string, root: string | undefined): Promise<Schema> {
  const [{ readFile }, { schemaFromDSL }] = await Promise.all([import('node:fs/promises'), import('@didbase/schemas')])
  const dsl = await readFile(path, 'utf8')
  const type = root ?? /^\s*type\s+(\w+)/m.exec(dsl)?.[1]
  if (type === undefined) throw new UsageError(`${path} defines no type; give --root`)
  return schemaFromDSL(dsl, type)
}

/** Flags first, then the config file, then defaults. */
async function peerSettings (flags: Flags): Promise<PeerSettings> {
  const config = flags.config === undefined ? {} : await readPeerConfig(flags.config)
  const optional = (text: string | undefined): string[] | undefined => (text === undefined ? undefined : list(text))
  return {
    directory: flags.dir ?? config.dir ?? DEFAULT_DIR,
    listen: optional(flags.listen) ?? config.listen ?? DEFAULT_PEER_LISTEN,
    peers: flags.peer !== undefined ? [flags.peer] : config.peers ?? [],
    serve: [...(config.serve ?? []), ...(optional(flags.serve) ?? [])],
    creators: optional(flags.creators) ?? config.creators ?? [],
    relay: flags['no-relay'] ? false : config.relay ?? true
  }
}
