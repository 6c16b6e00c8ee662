// Builds a fresh database with the real migrations, two tenants and their users (through the
// `modernize` CLI), then starts `modernize serve` on a free port and waits until it is ready.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BIN, NORTH, PASSWORD, STATE_FILE, TENANTS, type ServerState } from "./fixtures";

function databaseUrl(): string {
  const server = process.env.DATABASE_URL;
  if (!server) throw new Error("DATABASE_URL must name a PostgreSQL server the tests may create databases on");
  const url = new URL(server);
  url.pathname = "/modernize_e2e";
  return url.toString();
}

function cli(db: string, args: string[]): string {
  return execFileSync(BIN, ["--database-url", db, ...args], {
    encoding: "utf8",
    env: { ...process.env, MODERNIZE_USER_PASSWORD: PASSWORD },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** Grants each tenant's non-admin users their role in its engagement (an account admin reaches every
 * engagement; analysts and viewers need a grant), through the CLI as an operator would. */
function grantEngagements(db: string): void {
  for (const tenant of TENANTS) {
    for (const [role, email] of Object.entries(tenant.users)) {
      if (role === "admin") continue;
      cli(db, [
        "engagements", "grant", "--client-account", tenant.slug, "--engagement", tenant.engagement,
        "--email", email, "--role", role,
      ]);
    }
  }
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

export default async function globalSetup(): Promise<void> {
  const db = databaseUrl();
  cli(db, ["db", "downgrade", "--to", "0", "--yes"]);
  cli(db, ["db", "upgrade"]);
  for (const tenant of TENANTS) {
    cli(db, ["accounts", "create", "--name", tenant.name, "--slug", tenant.slug]);
    cli(db, ["engagements", "create", "--client-account", tenant.slug, "--name", tenant.engagementName, "--slug", tenant.engagement]);
    for (const [role, email] of Object.entries(tenant.users)) {
      cli(db, ["users", "create", "--email", email, "--first-name", role, "--member", `${tenant.slug}:${role}`]);
    }
  }
  grantEngagements(db);
  const dataDir = mkdtempSync(join(tmpdir(), "modernize-e2e-"));
  // An inventory to browse from the start (the upload test imports the same file again, through
  // the UI): examples/inventory.csv, its mappings accepted above 0.9 confidence.
  cli(db, [
    "--data-dir", dataDir, "import", resolve("../examples/inventory.csv"),
    "--client-account", NORTH.slug, "--engagement", NORTH.engagement, "--accept-above", "0.9",
  ]);
  const port = await freePort();
  const log = openSync(resolve("test-results-server.log"), "w");
  const server = spawn(BIN, ["--database-url", db, "--data-dir", dataDir, "serve", "--listen", `127.0.0.1:${port}`], {
    stdio: ["ignore", log, log],
    detached: false,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`modernize serve exited with ${server.exitCode}; see web/test-results-server.log`);
    try {
      if ((await fetch(`${baseUrl}/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("modernize serve was not ready within 60 s");
    await new Promise((r) => setTimeout(r, 250));
  }
  const state: ServerState = { pid: server.pid ?? 0, baseUrl, dataDir, databaseUrl: db };
  writeFileSync(STATE_FILE, JSON.stringify(state));
}
