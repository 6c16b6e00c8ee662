import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Locator, Page } from "@playwright/test";
import { NORTH, SOUTH, expect, expectAccessible, signIn, test } from "./fixtures";

const base = `/a/${NORTH.slug}/e/${NORTH.engagement}`;

/** Drops a file on an element the way a browser does: a DataTransfer built in the page from the
 * file's bytes, then dragenter, dragover and drop on it. Chromium gives an item built in the page
 * no file-system handle (`getAsFileSystemHandle` answers null, which the drop zone's file reader
 * does not expect), so the page first takes the path of browsers without that API (Firefox,
 * Safari): the item's file itself. */
async function dropFile(page: Page, target: Locator, path: string, type: string): Promise<void> {
  const bytes = readFileSync(path).toString("base64");
  const dataTransfer = await page.evaluateHandle(
    ({ bytes, name, type }) => {
      Reflect.deleteProperty(DataTransferItem.prototype, "getAsFileSystemHandle");
      const data = Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], name, { type }));
      return transfer;
    },
    { bytes, name: basename(path), type },
  );
  for (const event of ["dragenter", "dragover", "drop"]) {
    await target.dispatchEvent(event, { dataTransfer });
  }
}

test("upload an inventory, review and change a mapping, resume, find its assets, override one's 6R, export CSV", async ({ page }) => {
  await signIn(page, NORTH.users.analyst);
  await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Import" }).click();
  await expect(page).toHaveURL(`${base}/import`);
  await expectAccessible(page, "the import page");

  // Dropped on the drop zone, as a user drags it from their files.
  await dropFile(page, page.getByTestId("dropzone"), resolve("../examples/inventory.csv"), "text/csv");
  await expect(page.getByText("(12 KiB)")).toBeVisible();
  await page.getByRole("button", { name: "Upload and start discovery" }).click();

  // The flow's page: live phases; without a threshold it pauses for the mappings' review.
  await expect(page).toHaveURL(new RegExp(`${base}/flows/[0-9a-f-]{36}$`));
  const flowUrl = page.url();
  await expect(page.getByRole("heading", { name: "inventory.csv" })).toBeVisible();
  await expect(page.getByText("Field mappings wait for a review")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("duration-data_import")).not.toHaveText("—");
  await expectAccessible(page, "a paused flow");

  // Review the mappings: each column with its samples, suggestion, confidence and explanation.
  await page.getByRole("link", { name: "Review the field mappings" }).click();
  await expect(page).toHaveURL(`${flowUrl}/mappings`);
  const mappings = page.getByRole("table", { name: "Field mappings" });
  await expect(mappings.getByRole("row")).toHaveCount(24); // the header and the file's 23 columns
  const costCenter = page.getByTestId("mapping-Cost Center");
  await expect(costCenter).toContainText("CC-FIN");
  await expect(page.getByTestId("mapping-Name")).toContainText("Payroll");
  await expectAccessible(page, "the mapping review");
  // Pick another field for one column: the change is approved at once.
  await mappings.getByRole("textbox", { name: "Field for Cost Center" }).click();
  // (the engine suggests department; the reviewer picks the business unit instead)
  await page.getByRole("option", { name: /^business_unit( \(\d+ %\))?$/ }).click();
  await expect(costCenter.getByRole("textbox", { name: "Field for Cost Center" })).toHaveValue(/^business_unit/);
  await expect(costCenter).toContainText("approved");
  await expect(costCenter).toContainText("user");
  // Approve one suggestion, reject another, then accept the sure ones in bulk.
  await page.getByRole("button", { name: "Approve Name" }).click();
  await expect(page.getByTestId("mapping-Name")).toContainText("approved");
  await page.getByRole("button", { name: "Reject Comments" }).click();
  await expect(page.getByTestId("mapping-Comments")).toContainText("rejected");
  const before = await page.getByTestId("review-counts").textContent();
  await page.getByRole("button", { name: "Accept all at or above" }).click();
  await expect(page.getByTestId("review-counts")).not.toHaveText(before ?? "");
  await expectAccessible(page, "the mapping review after changes");
  // Resume: the rest are decided by the confidence, the flow goes on and completes.
  await page.getByRole("button", { name: "Resume the flow" }).click();
  await expect(page).toHaveURL(flowUrl);
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
  // The reviewed mapping took effect: the file's cost centre became the asset's business unit.
  const ownership = page.getByRole("region", { name: "Ownership" });
  await expect(ownership.locator('[data-field="business_unit"]')).toHaveText(/^CC-/);
  await expect(ownership.locator('[data-field="department"]')).not.toHaveText(/^CC-/);
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

  // The mappings of a flow: read, not decided.
  await page.goto(`${base}/flows`);
  await page.getByRole("table").getByRole("link").last().click();
  await expect(page).toHaveURL(new RegExp(`${base}/flows/[0-9a-f-]{36}$`));
  const flowUrl = new URL(page.url()).pathname;
  await page.goto(`${flowUrl}/mappings`);
  const mappings = page.getByRole("table", { name: "Field mappings" });
  await expect(mappings.getByRole("row").nth(1)).toBeVisible();
  await expect(page.getByTestId("mapping-Name")).toContainText("Payroll");
  await expect(page.getByRole("button", { name: /^(Approve|Reject) / })).toHaveCount(0);
  await expect(page.getByRole("textbox", { name: /^Field for / })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^(Accept all at or above|Resume the flow)$/ })).toHaveCount(0);
  await expectAccessible(page, "the mapping review, as a viewer");
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

test("another tenant's flow and its mappings show not found", async ({ page }) => {
  // A flow of north's engagement, then the same URLs signed in as south's admin.
  await signIn(page, NORTH.users.viewer);
  await page.goto(`${base}/flows`);
  await page.getByRole("table").getByRole("link").last().click();
  await expect(page).toHaveURL(new RegExp(`${base}/flows/[0-9a-f-]{36}$`));
  const flow = new URL(page.url()).pathname.split("/").pop() ?? "";
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, SOUTH.users.admin);
  const southBase = `/a/${SOUTH.slug}/e/${SOUTH.engagement}`;
  for (const url of [`${southBase}/flows/${flow}`, `${southBase}/flows/${flow}/mappings`, `${base}/flows/${flow}/mappings`]) {
    await page.goto(url);
    await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  }
  await expectAccessible(page, "not found");
});
