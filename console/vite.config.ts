// Builds the console into the Python package (src/tickwork/web/static), which `tickwork serve`
// serves at /. `npm run dev` serves the sources with hot reload and proxies the API to a
// `tickwork serve` on TICKWORK_API (default http://127.0.0.1:8080).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const api = process.env.TICKWORK_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: fileURLToPath(new URL("../src/tickwork/web/static", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // No inline script or style anywhere: the API's Content-Security-Policy forbids them.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    reportCompressedSize: true,
    sourcemap: false,
  },
  server: {
    port: 5173,
    proxy: {
      "/api": { target: api, changeOrigin: false },
      "/healthz": api,
      "/readyz": api,
    },
  },
});
