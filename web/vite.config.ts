import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build lands in web/dist, which crates/modernize-web embeds in the binary.
// `npm run dev` proxies the API to a `modernize serve` on 127.0.0.1:8080.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: {
    proxy: { "/api": "http://127.0.0.1:8080", "/health": "http://127.0.0.1:8080" },
  },
});
