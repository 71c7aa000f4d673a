import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// The test page of query-property.spec.ts: built from this folder into a temporary folder
// the spec gives with --outDir, never into the example's dist/.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // The page imports the query oracle from the repository's test/src, outside this root.
  build: { target: 'es2022', emptyOutDir: true, chunkSizeWarningLimit: 4000, reportCompressedSize: false }
})
