/**
 * Where a key-value or document database keeps the snapshot of its record index between
 * runs: one record in the node's datastore (LevelDB in Node, IndexedDB in browsers). A
 * reopened database starts from it and indexes only what its heads reach beyond it, so
 * opening a large database does not read its whole log again.
 */
import type { Datastore } from 'interface-datastore'
import { Key } from 'interface-datastore'

export interface SnapshotStore {
  load: () => Promise<Uint8Array | undefined>
  save: (bytes: Uint8Array) => Promise<void>
}

export function snapshotStore (datastore: Datastore, address: string): SnapshotStore {
  // The address's last part is its manifest CID: letters and digits only, a valid key.
  const key = new Key(`/didbase/record-index/${address.split('/').at(-1) ?? address}`)
  return {
    load: async () => {
      try {
        return await datastore.get(key)
      } catch {
        return undefined
      }
    },
    save: async (bytes) => { await datastore.put(key, bytes) }
  }
}
