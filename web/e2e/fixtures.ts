import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test as base, expect, type Page } from "@playwright/test";

export { expect };

/** The binary under test: the debug build unless MODERNIZE_BIN names another. */
export const BIN = process.env.MODERNIZE_BIN ?? resolve("../target/debug/modernize");
export const PASSWORD = "e2e-password-long-enough";
export const STATE_FILE = resolve("test-results-server.json");

export interface ServerState {
  pid: number;
  baseUrl: string;
  dataDir: string;
  databaseUrl: string;
}

/** Two tenants: the tests work in `north`; `south` is the other tenant whose URLs must not open. */
export const TENANTS = [
  {
    slug: "north-retail",
    name: "North Retail",
    engagement: "wave-1",
    engagementName: "Wave 1",
    users: { admin: "admin@north.test", analyst: "analyst@north.test", viewer: "viewer@north.test" },
  },
  {
    slug: "south-bank",
    name: "South Bank",
    engagement: "core-move",
    engagementName: "Core move",
    users: { admin: "admin@south.test" },
  },
] as const;

export const NORTH = TENANTS[0];
export const SOUTH = TENANTS[1];

export function serverState(): ServerState {
  return JSON.parse(readFileSync(STATE_FILE, "utf8")) as ServerState;
}

export async function signIn(page: Page, email: string): Promise<void> {
  await page.goto("/sign-in");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
}

const AXE_SOURCE = readFileSync(resolve("node_modules/axe-core/axe.min.js"), "utf8");

/** Runs axe-core in the page: no serious or critical violation allowed. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  // Evaluated through the DevTools protocol: the app's Content-Security-Policy (rightly) refuses
  // an injected <script>.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[] }> } }).axe;
    const result = await axe.run(document);
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`);
  });
  expect(violations, `accessibility of ${what}`).toEqual([]);
}

/** A screenshot for docs/screenshots when UPDATE_SCREENSHOTS=1 (committed, shown in the README). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS === "1") {
    await page.screenshot({ path: resolve(`../docs/screenshots/${name}.png`), fullPage: false });
  }
}

/** Playwright's test, pointed at the server global-setup started. */
export const test = base.extend({
  baseURL: async ({}, use) => use(serverState().baseUrl),
});
