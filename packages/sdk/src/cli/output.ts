import type { CommandLine } from './args.js'

/** One result: human text, or with `--json` one JSON line. */
export function print (cli: CommandLine, human: string, json: unknown): void {
  console.log(cli.flags.json ? JSON.stringify(json) : human)
}
