import { readFileSync, rmSync } from "node:fs";
import { STATE_FILE, type ServerState } from "./fixtures";

/** Stops the server global-setup started (SIGTERM: it finishes in-flight requests). */
export default async function globalTeardown(): Promise<void> {
  const state = JSON.parse(readFileSync(STATE_FILE, "utf8")) as ServerState;
  if (state.pid > 0) {
    try {
      process.kill(state.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  rmSync(state.dataDir, { recursive: true, force: true });
  rmSync(STATE_FILE, { force: true });
}
