/**
 * Debug logging under `didbase:<component>`, with libp2p's logger: `DEBUG=didbase:*` in
 * Node, `localStorage.debug = 'didbase:*'` in a browser (add `libp2p:*` for the stack below).
 * What didbase gives up on quietly (a snapshot it could not save, a dial that failed) is
 * logged here, never thrown at the user.
 */
import { type Logger, logger } from '@libp2p/logger'

export function debugLog (component: string): Logger {
  return logger(`didbase:${component}`)
}
