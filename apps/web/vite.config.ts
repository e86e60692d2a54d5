import { defineConfig } from 'vite'
import { viteSingleFile } from 'vite-plugin-singlefile'

/**
 * One file: the script and styles are inlined into index.html. During a rolling deploy a page of
 * one release talks to instances of the next; a page that needs no further file from the server
 * cannot hit a 404 for an asset the new release no longer has, whatever serves it.
 */
export default defineConfig({
  plugins: [viteSingleFile({ removeViteModuleLoader: true })],
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true, reportCompressedSize: true },
})
