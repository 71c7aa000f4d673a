/**
 * Secrets in browsers: one IndexedDB database for the origin, one record per secret, keyed
 * by the didbase directory and the secret's name, so a reload finds the same DID and peer
 * id. Like the files of the Node build (secret-store.ts), they are not encrypted: anyone who
 * can run script on the origin can read them. An app that keeps keys elsewhere passes its
 * own identity to createDidbase instead.
 */
import { SecretStoreError } from '../errors.js'
const DATABASE = 'didbase-secrets'
const STORE = 'secrets'

export function secretLocation (directory: string, name: string): string {
  return `IndexedDB "${DATABASE}", key "${directory}/${name}"`
}

function opened (): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1)
    request.onupgradeneeded = () => { request.result.createObjectStore(STORE) }
    request.onsuccess = () => { resolve(request.result) }
    request.onerror = () => { reject(request.error ?? new SecretStoreError(`cannot open IndexedDB "${DATABASE}"`)) }
  })
}

async function inStore<T> (mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await opened()
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode)
      const request = work(tx.objectStore(STORE))
      // Resolve once the transaction is durable, not when the request alone succeeds.
      tx.oncomplete = () => { resolve(request.result) }
      tx.onerror = () => { reject(tx.error ?? request.error ?? new SecretStoreError(`IndexedDB "${DATABASE}" failed`)) }
      tx.onabort = () => { reject(tx.error ?? new SecretStoreError(`IndexedDB "${DATABASE}" aborted`)) }
    })
  } finally {
    db.close()
  }
}

export async function readSecret (directory: string, name: string): Promise<Uint8Array | undefined> {
  const value = await inStore<unknown>('readonly', (store) => store.get(`${directory}/${name}`))
  return value instanceof Uint8Array ? value : undefined
}

/** Fails if the secret exists (`add`, not `put`), so a key is never overwritten. */
export async function writeSecret (directory: string, name: string, data: Uint8Array): Promise<void> {
  await inStore('readwrite', (store) => store.add(new Uint8Array(data), `${directory}/${name}`))
}

/** Keep a secret that may replace an earlier one (a renewed session). */
export async function replaceSecret (directory: string, name: string, data: Uint8Array): Promise<void> {
  await inStore('readwrite', (store) => store.put(new Uint8Array(data), `${directory}/${name}`))
}

/** Forget the secret `name` of `directory`, if it is kept. */
export async function removeSecret (directory: string, name: string): Promise<void> {
  await inStore('readwrite', (store) => store.delete(`${directory}/${name}`))
}
