// A browser page built with Vite from the packed packages; type-checked with no @types/node.
import { createDidbase } from '@didbase/sdk'

async function main (): Promise<void> {
  const didbase = await createDidbase()
  const notes = await didbase.eventLog<string>('notes')
  await notes.add('hello from the page')
  const shown = document.getElementById('did')
  if (shown !== null) shown.textContent = didbase.did
}

void main()
