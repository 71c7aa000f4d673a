/**
 * What a peer pays for sending entries this node refuses.
 *
 * An honest peer forwards only entries it accepted itself, and the verdict on an entry
 * depends only on the entry and its causal past: a peer that keeps sending refused
 * entries is their author, or is broken. Gossipsub already drops every message of a peer
 * whose score is below its graylist threshold right after decoding the frame, before
 * any signature check or judging. This feeds refusals into that score (gossipsub's
 * application-specific score, P5), read anew as it changes (upstream/gossipsub-score.ts),
 * so a flooding peer costs a frame decode per message after a few dozen refusals, and its
 * score recovers by itself once it stops. A peer that goes
 * on is disconnected and refused connections until its refusals decay.
 *
 * Gossipsub's own penalty for invalid messages (P4) needs score parameters per topic,
 * fixed when the node starts; a database's topic is known only when it opens.
 */
import type { Message, TopicValidatorFn } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { ConnectionGater, PeerId } from '@libp2p/interface'

/** Refusals a peer may send (decaying) and keep a score of zero: an honest peer's occasional refused entry costs it nothing. */
export const FREE_REFUSALS = 8
/** Refusals (decaying) at which gossipsub ignores a peer: its score reaches the graylist threshold. */
export const GRAYLIST_AT = 32
/** Refusals lose half their weight in this long. */
export const HALF_LIFE_MS = 30_000
/** A refused entry counts one point against the peer that sent it. */
export const REFUSED_WEIGHT = 1
/** A stranger's entry whose past the sender did not serve in time counts this much of a refusal. */
export const UNSERVED_WEIGHT = 0.5
/** A stranger's entry dropped because its sender already holds its whole share of the line counts this much. */
export const OVER_SHARE_WEIGHT = 0.25
/** Refusals (decaying) at which the peer is disconnected, and refused a connection until it is back under GRAYLIST_AT. */
export const BAN_AT = 64
/** Peers whose refusals are remembered; the least recently penalized is forgotten first. */
export const MAX_PEERS = 4_096
/** Gossipsub's default graylist threshold, which these scores are scaled to. */
export const GRAYLIST_THRESHOLD = -80

/** Where a database's topic validator is registered: gossipsub's map, or one that scores peers by its verdicts. */
export interface TopicValidators {
  set: (topic: string, validator: TopicValidatorFn) => unknown
  delete: (topic: string) => unknown
  /** Charge a peer after the fact (a verdict that came after its message was answered). */
  penalize?: (peer: PeerId, points: number) => void
}

export class PeerPenalties {
  readonly #refusals = new Map<string, { points: number, at: number }>()
  /** Peers that reached BAN_AT and have not decayed back under GRAYLIST_AT. */
  readonly #banned = new Set<string>()
  /** Told of a peer that reached BAN_AT: close its connections. */
  onBan: (peer: PeerId) => void = () => {}
  /** Told of a peer whose score is now below zero and changed: gossipsub must read it anew. */
  onScore: (peerId: string) => void = () => {}

  /** Count `points` refusals against a peer. */
  add (peer: PeerId | string, points: number, now = Date.now()): void {
    const peerId = peer.toString()
    const total = this.points(peerId, now) + points
    this.#refusals.delete(peerId)
    this.#refusals.set(peerId, { points: total, at: now })
    if (this.#refusals.size > MAX_PEERS) {
      const forgotten = this.#refusals.keys().next().value as string
      this.#refusals.delete(forgotten)
      this.#banned.delete(forgotten)
    }
    if (total > FREE_REFUSALS) this.onScore(peerId)
    if (total >= BAN_AT && !this.#banned.has(peerId)) {
      this.#banned.add(peerId)
      if (typeof peer !== 'string') this.onBan(peer)
    }
  }

  /** Whether a peer is refused connections: it reached BAN_AT and has not decayed back under GRAYLIST_AT. */
  banned (peer: PeerId | string, now = Date.now()): boolean {
    const peerId = peer.toString()
    if (!this.#banned.has(peerId)) return false
    if (this.points(peerId, now) >= GRAYLIST_AT) return true
    this.#banned.delete(peerId)
    return false
  }

  /** A connection gater that refuses banned peers, then asks `gater` (the caller's), if any. */
  gater (gater: ConnectionGater = {}): ConnectionGater {
    // Each of the caller's rules, bound to it (it may be a class instance); absent ones stay absent, so libp2p's defaults apply.
    const own = Object.fromEntries(GATER_RULES.flatMap((rule) => {
      const fn = gater[rule] as ((...args: unknown[]) => unknown) | undefined
      return typeof fn === 'function' ? [[rule, fn.bind(gater)]] : []
    })) as ConnectionGater
    return {
      ...own,
      denyDialPeer: async (peer) => this.banned(peer) || (await own.denyDialPeer?.(peer) ?? false),
      denyInboundEncryptedConnection: async (peer, conn) => this.banned(peer) || (await own.denyInboundEncryptedConnection?.(peer, conn) ?? false),
      denyOutboundEncryptedConnection: async (peer, conn) => this.banned(peer) || (await own.denyOutboundEncryptedConnection?.(peer, conn) ?? false)
    }
  }

  /** A peer's refusals now, decayed. */
  points (peerId: string, now = Date.now()): number {
    const held = this.#refusals.get(peerId)
    if (held === undefined) return 0
    return held.points * 2 ** (-(now - held.at) / HALF_LIFE_MS)
  }

  /** Gossipsub's application-specific score (with weight 1): 0 within the free refusals, the graylist threshold at GRAYLIST_AT. */
  score (peerId: string, now = Date.now()): number {
    const over = this.points(peerId, now) - FREE_REFUSALS
    return over <= 0 ? 0 : (over / (GRAYLIST_AT - FREE_REFUSALS)) * GRAYLIST_THRESHOLD
  }

  /**
   * A validator that counts the refusals of `validate` against the peer that sent each
   * message. A refusal counts whoever sent it: an honest peer forwards only what it accepted
   * itself, and the verdict is the same on every replica. A counted Ignore (a past not
   * served, a sender over its share of a line, too many unknown links) depends on what this
   * replica holds, so it counts only against the peer that published the message, never
   * against an honest relay an attacker feeds.
   */
  counting (validate: TopicValidatorFn): TopicValidatorFn {
    return async (peer, message) => {
      const verdict = await validate(peer, message)
      const points = verdict === TopicValidatorResult.Reject ? REFUSED_WEIGHT : verdict === TopicValidatorResult.Ignore && publishedBy(peer, message) ? unjudged.get(message) : undefined
      if (points !== undefined) this.add(peer, points)
      return verdict
    }
  }

  /** Register validators in `validators` (gossipsub's map) so that each one's refusals count. */
  validators (validators: Map<string, TopicValidatorFn>): TopicValidators {
    return {
      set: (topic, validate) => validators.set(topic, this.counting(validate)),
      delete: (topic) => validators.delete(topic),
      penalize: (peer, points) => { this.add(peer, points) }
    }
  }
}

/** libp2p's connection gater rules. */
const GATER_RULES = ['denyDialPeer', 'denyDialMultiaddr', 'denyInboundConnection', 'denyOutboundConnection', 'denyInboundEncryptedConnection', 'denyOutboundEncryptedConnection', 'denyInboundUpgradedConnection', 'denyOutboundUpgradedConnection', 'denyInboundRelayReservation', 'denyOutboundRelayedConnection', 'denyInboundRelayedConnection', 'filterMultiaddrForPeer'] as const satisfies ReadonlyArray<keyof ConnectionGater>

/** Whether `peer`, the peer a message came from, is the peer that published (signed) it rather than a relay. */
export function publishedBy (peer: PeerId, message: Message): boolean {
  return message.type === 'signed' && message.from.equals(peer)
}

/** Messages a validator ignored for the sender's doing (a past it does not serve, more than its share of a line), with the weight each counts. */
const unjudged = new WeakMap<object, number>()

/** Ignore a message, counting `weight` of a refusal against its sender (an Ignore is otherwise free: a missing past may come later). */
export function ignoreCounted (message: object, weight: number): TopicValidatorResult {
  unjudged.set(message, weight)
  return TopicValidatorResult.Ignore
}
