/**
 * Private databases with an ACL: an admin that sees a member lacking a current epoch key
 * (granted concurrently with a rotation, or redeemed an invite issued before one) shares it.
 * Runs after access operations arrive, one pass at a time; a pass that finds nothing to do
 * writes nothing, so the share it writes ends the loop.
 */
import type { LogEntry } from '@orbitdb/core'
import { debugLog } from '../log.js'

const log = debugLog('keys')

export interface KeyCourierInit {
  isAdmin: () => Promise<boolean>
  /** Write a share for the members that lack keys, if any does. */
  shareMissing: () => Promise<string | undefined>
  /** Start a new key epoch if a device its user took back holds a current key. */
  rotateForRevoked: () => Promise<string | undefined>
  closed: () => boolean
}

export class KeyCourier {
  readonly #init: KeyCourierInit
  #running: Promise<void> | undefined
  #again = false

  constructor (init: KeyCourierInit) {
    this.#init = init
  }

  /** An entry is in the log: look again if it changes who holds which key. */
  seen (entry: LogEntry): void {
    if ((entry.payload as { op?: unknown } | null)?.op === 'ACL') this.poke()
  }

  poke (): void {
    if (this.#running !== undefined) {
      this.#again = true
      return
    }
    this.#running = this.#pass().finally(() => {
      this.#running = undefined
      if (this.#again && !this.#init.closed()) {
        this.#again = false
        this.poke()
      }
    })
  }

  /** Resolves once no pass is running (before the database closes). */
  async idle (): Promise<void> {
    this.#again = false
    await this.#running
  }

  async #pass (): Promise<void> {
    if (this.#init.closed()) return
    try {
      if (!(await this.#init.isAdmin())) return
      const rotated = await this.#init.rotateForRevoked()
      if (rotated !== undefined) log('started a new key epoch in %s: a revoked device held the current key', rotated)
      const hash = await this.#init.shareMissing()
      if (hash !== undefined) log('shared missing epoch keys in %s', hash)
    } catch (err) {
      // This admin may lack the key too, or the database is closing: another admin, or a later pass, shares it.
      if (!this.#init.closed()) log('could not share missing epoch keys: %e', err)
    }
  }
}
