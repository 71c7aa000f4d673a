/** The three database types behind one small interface, so a suite can run for each. */
import type { Didbase, DocumentsDatabase, EventLogDatabase, KeyValueDatabase } from '@didbase/sdk'
import { collect } from './peers.js'

export interface Row {
  id: string
  value: unknown
  writer: string
}

export interface Kind {
  name: 'keyvalue' | 'documents' | 'events'
  create: (p: Didbase, name: string) => Promise<Handle>
  open: (p: Didbase, address: string) => Promise<Handle>
}

export interface Handle {
  address: string
  db: KeyValueDatabase | DocumentsDatabase | EventLogDatabase
  write: (i: number) => Promise<string>
  /** Every record, sorted by id, with its writer. */
  rows: () => Promise<Row[]>
}

const byId = (a: Row, b: Row): number => a.id.localeCompare(b.id)

function kv (db: KeyValueDatabase): Handle {
  return {
    address: db.address,
    db,
    write: async (i) => db.put(`k${String(i).padStart(5, '0')}`, { n: i }),
    rows: async () => (await collect(db.entries())).map((r) => ({ id: r.key, value: r.value, writer: r.writer })).sort(byId)
  }
}

function docs (db: DocumentsDatabase): Handle {
  return {
    address: db.address,
    db,
    write: async (i) => db.put({ _id: `d${String(i).padStart(5, '0')}`, n: i }),
    rows: async () => (await collect(db.entries())).map((r) => ({ id: r.key, value: r.value, writer: r.writer })).sort(byId)
  }
}

function events (db: EventLogDatabase): Handle {
  return {
    address: db.address,
    db,
    write: async (i) => db.add({ n: i }),
    rows: async () => (await collect(db.entries())).map((r) => ({ id: r.hash, value: r.value, writer: r.writer })).sort(byId)
  }
}

export const kinds: Kind[] = [
  { name: 'keyvalue', create: async (p, n) => kv(await p.keyValue(n)), open: async (p, a) => kv(await p.keyValue(a)) },
  { name: 'documents', create: async (p, n) => docs(await p.documents(n)), open: async (p, a) => docs(await p.documents(a)) },
  { name: 'events', create: async (p, n) => events(await p.eventLog(n)), open: async (p, a) => events(await p.eventLog(a)) }
]
