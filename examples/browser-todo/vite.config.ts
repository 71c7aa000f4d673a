import { defineConfig } from 'vite'

// No polyfills or Node shims: every package in the stack swaps its Node-only modules out
// through its package.json `browser` field, which Vite follows.
export default defineConfig({
  // One bundle holds the whole stack (libp2p, Helia, OrbitDB): about 590 kB gzipped.
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2500 },
  // Pre-bundle the stack up front, so the dev server does not reload the page on first use.
  optimizeDeps: { include: ['@didbase/sdk'] }
})
