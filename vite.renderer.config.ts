// The renderer as a plain Vite app: electron-vite uses it for the window, and it also serves or
// builds the page without Electron (browser mode, browser tests): `npx vite -c vite.renderer.config.ts`.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = import.meta.dirname;

export default defineConfig({
  root: resolve(here, 'renderer'),
  // Relative asset URLs: the same build loads from file:// in Electron and from the web host.
  base: './',
  plugins: [react()],
  build: {
    outDir: resolve(here, 'out/renderer'),
    emptyOutDir: true,
    rolldownOptions: { input: { index: resolve(here, 'renderer/index.html') } },
    // Monaco is loaded on demand (EditorPane is lazy) and is big by nature; the warning would
    // only ever be about it.
    chunkSizeWarningLimit: 4096,
  },
});
