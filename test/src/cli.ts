/** The real `didbase` binary as a subprocess: one-shot commands, and `didbase peer` kept running. */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const bin = fileURLToPath(new URL('../../packages/sdk/bin/didbase.js', import.meta.url))

export interface Run { code: number, stdout: string, stderr: string }

/** Run one command on data directory `dir`; resolves with its exit code and output. */
export async function didbase (dir: string, ...args: string[]): Promise<Run> {
  return didbaseOnNode([], dir, ...args)
}

/** The same, with options for Node itself (`--import` a hook, say). */
export async function didbaseOnNode (nodeArgs: string[], dir: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeArgs, bin, ...args, '--dir', dir], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? -1, stdout: stdout.trim(), stderr: stderr.trim() })
    })
  })
}

/** Output of one JSON value a line (`didbase find`, `didbase peer --json`), each parsed. */
export function jsonLines<T = unknown> (text: string): T[] {
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as T)
}

export interface LogLine { event: string, [key: string]: unknown }

export interface PeerProcess {
  child: ChildProcess
  /** Every line logged so far, parsed (`--json`). */
  lines: LogLine[]
  exited: Promise<number | null>
}

/** Start `didbase peer --json ...args`; kill it with `child.kill('SIGTERM')`. */
export function startPeerProcess (args: string[]): PeerProcess {
  const child = spawn(process.execPath, [bin, 'peer', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: LogLine[] = []
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as LogLine)
    } catch {
      lines.push({ event: 'text', line })
    }
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, lines, exited }
}
