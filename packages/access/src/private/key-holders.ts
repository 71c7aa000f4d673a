/**
 * Who holds a private database's keys, read off the access state: members that hold keys
 * themselves (a did:key), the keys members delegated to, who a new epoch key is wrapped
 * for, and when a key taken back means a new epoch.
 */
import { type AclState, membersOf, revokedKeys } from '../policy/acl-state.js'
import type { Role } from '../policy/operations.js'

/**
 * Whether `did` can hold a private database's keys itself: a did:key has a key agreement
 * key to wrap them to. A wallet's did:pkh has none: its sessions hold them for it.
 */
export function holdsKeys (did: string): boolean {
  return did.startsWith('did:key:')
}

/**
 * Who a new epoch key must be wrapped for when `members` remain (`required`: each of them
 * that holds keys itself), and who it may be wrapped for besides (`optional`: the keys a
 * wallet member among them registered, still stands by and whose delegation has not expired
 * at `at`). The rotating admin wraps for its own session when it is a wallet; other
 * sessions are handed the key by an admin's node (`share`), so a wallet's many sessions
 * never make a rotation large, or impossible.
 */
export function keyRecipients (state: Pick<AclState, 'sessions' | 'revokedDevices'>, members: readonly string[], at: number): { required: string[], optional: Set<string> } {
  const keyless = members.filter((did) => !holdsKeys(did))
  const devices = keyless.length === 0 ? [] : memberDevices({ admins: keyless, writers: [], readers: [], sessions: state.sessions, revokedDevices: state.revokedDevices }, at)
  return { required: members.filter(holdsKeys).sort(), optional: new Set(devices) }
}

/**
 * The keys members delegated to (devices, sessions) and have not taken back: they hold a
 * private database's keys for their users, shared to them by an admin.
 */
export function memberDevices (state: { admins: Iterable<string>, writers: Iterable<string>, readers: Iterable<string> } & Pick<AclState, 'sessions' | 'revokedDevices'>, at?: number): string[] {
  const members = new Set(membersOf(state))
  const devices = new Set<string>()
  for (const [id, delegation] of state.sessions) {
    const revoked = state.revokedDevices.has(id) || (delegation.keys ?? []).some((key) => state.revokedDevices.has(`${delegation.issuer} ${key}`))
    // With `at`: a key whose delegation has expired by then is handed nothing more.
    if (members.has(delegation.issuer) && !revoked && (at === undefined || at < delegation.expiresAt)) devices.add(delegation.audience)
  }
  return [...devices].sort()
}

/** Who should hold a private database's current keys at `at`: members that hold keys themselves, and the live keys members registered. */
export function keyHolders (state: AclState, at: number): string[] {
  return [...new Set([...membersOf(state).filter(holdsKeys), ...memberDevices(state, at)])]
}

/**
 * Whether a private database needs a new epoch because a key that was taken back holds a
 * current key. A key that still stands as a member's live key (another user registered it
 * too) does not count: a rotation would hand it the new key again, and the next check would
 * ask for another rotation, for ever.
 */
export function keyExposed (state: AclState, at: number): boolean {
  const revoked = revokedKeys(state)
  const standing = new Set(keyHolders(state, at))
  return state.epochs.some((epoch) => [...(state.keyHolders.get(epoch) ?? [])].some((key) => revoked.has(key) && !standing.has(key)))
}

/** Members once `did` no longer holds `role`: who a revocation's new key is wrapped for. */
export function membersWithout (state: Pick<AclState, 'admins' | 'writers' | 'readers'>, role: Role, did: string): string[] {
  const without = (set: ReadonlySet<string>, r: Role): string[] => [...set].filter((d) => !(r === role && d === did))
  return membersOf({ admins: without(state.admins, 'admin'), writers: without(state.writers, 'writer'), readers: without(state.readers, 'reader') })
}
