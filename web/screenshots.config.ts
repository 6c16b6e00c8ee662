import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// The README's screenshots: `npm run screenshots` against the demo (`./scripts/demo` serving on
// MODERNIZE_DEMO_URL, default http://127.0.0.1:8080), in Debian's Chromium; writes
// docs/screenshots/*.png. No global setup: the demo's server and data are used as they are.
export default defineConfig({
  ...base,
  testDir: "screenshots",
  globalSetup: undefined,
  globalTeardown: undefined,
  use: { ...base.use, baseURL: process.env.MODERNIZE_DEMO_URL ?? "http://127.0.0.1:8080" },
});
