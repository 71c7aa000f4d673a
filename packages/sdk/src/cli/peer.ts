/**
 * `didbase peer`: the always-on replicator as a command (settings: peer-config.ts). It logs
 * one line per event (JSON lines with `--json`) and stops cleanly on SIGINT or SIGTERM.
 */
import { type ReplicatorInit, startReplicator } from '../pinning/replicator.js'

function line (json: boolean, event: string, detail: Record<string, unknown>): string {
  const time = new Date().toISOString()
  if (json) return JSON.stringify({ time, event, ...detail })
  return `${time} ${event.padEnd(9)} ${Object.entries(detail).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`
}

/** Run until SIGINT or SIGTERM, then close every database and stop. */
export async function runPeer (init: Omit<ReplicatorInit, 'log'>, json: boolean): Promise<void> {
  const log = (event: string, detail: Record<string, unknown>): void => { console.log(line(json, event, detail)) }
  const stopped = new Promise<string>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal))
  })
  const replicator = await startReplicator({ ...init, log })
  const signal = await stopped
  log('stopping', { signal })
  await replicator.close()
  log('stopped', {})
}
