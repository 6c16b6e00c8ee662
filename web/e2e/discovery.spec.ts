import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { NORTH, expect, expectAccessible, signIn, test } from "./fixtures";

const base = `/a/${NORTH.slug}/e/${NORTH.engagement}`;

test("upload an inventory, follow its flow, resume it, find its assets, override one's 6R, export CSV", async ({ page }) => {
  await signIn(page, NORTH.users.analyst);
  await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Import" }).click();
  await expect(page).toHaveURL(`${base}/import`);
  await expectAccessible(page, "the import page");

  // The drop zone's file input (what a drop and "Choose a file…" both feed).
  await page.locator('input[type="file"]').setInputFiles(resolve("../examples/inventory.csv"));
  await expect(page.getByText("(12 KiB)")).toBeVisible();
  await page.getByRole("button", { name: "Upload and start discovery" }).click();

  // The flow's page: live phases; without a threshold it pauses for the mappings' review.
  await expect(page).toHaveURL(new RegExp(`${base}/flows/[0-9a-f-]{36}$`));
  const flowUrl = page.url();
  await expect(page.getByRole("heading", { name: "inventory.csv" })).toBeVisible();
  await expect(page.getByText("Field mappings wait for a review")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("duration-data_import")).not.toHaveText("—");
  await expectAccessible(page, "a paused flow");
  await page.getByRole("button", { name: "Accept and resume" }).click();
  await expect(page.getByRole("region", { name: "Inventory" })).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("duration-tech_debt_assessment")).not.toHaveText("—");
  await expectAccessible(page, "a completed flow");

  // Its assets, then a filter on them.
  await page.getByRole("link", { name: "See the assets this flow found" }).click();
  await expect(page).toHaveURL(/discovery_flow_id=/);
  await page.getByRole("textbox", { name: "Type" }).click();
  await page.getByRole("option", { name: "Server" }).click();
  await expect(page).toHaveURL(/asset_type=server/);
  await expect(page.getByText(/^1–\d+ of \d+ assets$/)).toBeVisible();

  // Export what is shown: the same filters, as CSV.
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Export CSV" }).click();
  const file = await download;
  const exported = readFileSync(await file.path(), "utf8");
  const lines = exported.trim().split(/\r?\n/);
  expect(lines.length).toBeGreaterThan(1);
  expect(lines.slice(1).every((line) => line.includes("server"))).toBe(true);

  // Open one and override its 6R strategy, with a reason.
  await page.getByRole("table", { name: "Assets" }).getByRole("link").first().click();
  const sixr = page.getByRole("region", { name: "6R strategy" });
  await expect(sixr.getByRole("list", { name: "Rationale" })).toBeVisible();
  const form = page.getByRole("form", { name: "Override the 6R strategy" });
  await form.getByRole("textbox", { name: "New strategy" }).click();
  await page.getByRole("option", { name: "Retain" }).click();
  await form.getByRole("textbox", { name: "Reason" }).fill("Licensing keeps it on premises until 2028");
  await form.getByRole("button", { name: "Override" }).click();
  await expect(page.getByTestId("strategy-in-force")).toHaveText("retain");
  await expect(sixr.getByRole("table", { name: "Overrides" })).toContainText("Licensing keeps it on premises until 2028");
  await expectAccessible(page, "an asset with its 6R override");

  await page.goto(`${base}/flows`);
  await expect(page.getByRole("table")).toBeVisible();
  await expectAccessible(page, "the flows page");
  await page.goto(flowUrl);
  await expect(page.getByRole("heading", { name: "inventory.csv" })).toBeVisible();
});

test("a viewer can open the import and flows pages but not start or change anything", async ({ page }) => {
  await signIn(page, NORTH.users.viewer);
  await page.goto(`${base}/import`);
  await expect(page.getByText("Your role can read this engagement's imports but not start one.")).toBeVisible();
  await expect(page.getByTestId("dropzone")).toHaveCount(0);
  await page.goto(`${base}/flows`);
  await expect(page.getByRole("heading", { name: "Flows" })).toBeVisible();
  await expect(page.getByRole("button", { name: /^(Pause|Resume|Retry|Cancel flow)/ })).toHaveCount(0);
  await page.goto(`${base}/assets`);
  await page.getByRole("table", { name: "Assets" }).getByRole("link").first().click();
  await expect(page.getByRole("region", { name: "6R strategy" })).toBeVisible();
  await expect(page.getByRole("form", { name: "Override the 6R strategy" })).toHaveCount(0);
});

test("the dependency graph around an asset, with its edges as links", async ({ page }) => {
  await signIn(page, NORTH.users.viewer);
  await page.goto(`${base}/assets?asset_type=application`);
  await page.getByRole("table", { name: "Assets" }).getByRole("link").first().click();
  await page.getByRole("link", { name: "Show the graph" }).click();
  await expect(page).toHaveURL(/\/dependencies\?asset=/);
  await expect(page.getByRole("application", { name: "Dependency graph" }).or(page.locator(".react-flow"))).toBeVisible();
  await expect(page.getByRole("region", { name: "The same dependencies as a list" }).getByRole("listitem").first()).toBeVisible();
  await expectAccessible(page, "the dependency graph");
});
