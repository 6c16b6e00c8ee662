import { NORTH, expect, expectAccessible, signIn, test } from "./fixtures";

const assetsUrl = `/a/${NORTH.slug}/e/${NORTH.engagement}/assets`;

/** "1–50 of 53 assets" → 53. */
async function total(page: import("@playwright/test").Page): Promise<number> {
  const status = page.getByText(/^\d+–\d+ of [\d,]+ assets$/);
  await expect(status).toBeVisible();
  const text = (await status.textContent()) ?? "";
  return Number(text.replace(/.* of ([\d,]+) assets$/, "$1").replace(/,/g, ""));
}

test("the inventory filters, sorts, pages and picks columns on the server, all in the URL", async ({ page }) => {
  await signIn(page, NORTH.users.analyst);
  await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Assets" }).click();
  await expect(page).toHaveURL(new RegExp(`${assetsUrl}$`));
  const all = await total(page);
  expect(all).toBeGreaterThan(40);
  await expectAccessible(page, "the asset inventory");

  // A filter: the URL holds it and the server counts what matches.
  await page.getByRole("textbox", { name: "Type" }).click();
  await page.getByRole("option", { name: "Server" }).click();
  await expect(page).toHaveURL(/asset_type=server/);
  const servers = await total(page);
  expect(servers).toBeLessThan(all);
  await expect(page.getByRole("table", { name: "Assets" }).getByRole("cell", { name: "Application", exact: true })).toHaveCount(0);

  // Sorting by a column head: ascending, then descending; the back button undoes the second.
  await page.getByRole("button", { name: "IP address" }).click();
  await expect(page).toHaveURL(/sort=ip_address/);
  await expect(page.getByRole("columnheader", { name: /IP address/ })).toHaveAttribute("aria-sort", "ascending");
  await page.getByRole("button", { name: /IP address/ }).click();
  await expect(page).toHaveURL(/order=desc/);
  await expect(page.getByRole("columnheader", { name: /IP address/ })).toHaveAttribute("aria-sort", "descending");
  await page.goBack();
  await expect(page).not.toHaveURL(/order=desc/);
  await expect(page.getByRole("columnheader", { name: /IP address/ })).toHaveAttribute("aria-sort", "ascending");

  // Keyset pages of 25: next, previous, with the position in the URL.
  await page.getByRole("textbox", { name: "Rows per page" }).click();
  await page.getByRole("option", { name: "25", exact: true }).click();
  await expect(page.getByText(`1–25 of ${servers} assets`)).toBeVisible();
  const firstOfPageOne = await page.getByRole("table", { name: "Assets" }).getByRole("row").nth(1).textContent();
  await page.getByRole("button", { name: "Next" }).click();
  await expect(page).toHaveURL(/cursor=/);
  await expect(page.getByText(new RegExp(`^26–\\d+ of ${servers} assets$`))).toBeVisible();
  await page.getByRole("button", { name: "Previous" }).click();
  await expect(page.getByText(`1–25 of ${servers} assets`)).toBeVisible();
  await expect(page.getByRole("table", { name: "Assets" }).getByRole("row").nth(1)).toHaveText(firstOfPageOne ?? "");

  // The column chooser: Hostname shown, and kept in the URL.
  await page.getByRole("button", { name: "Columns" }).click();
  await page.getByRole("checkbox", { name: "Hostname" }).check();
  await expect(page).toHaveURL(/cols=[^&]*hostname/);
  await page.keyboard.press("Escape");
  await expect(page.getByRole("columnheader", { name: "Hostname" })).toBeVisible();

  // A free-text search.
  await page.getByRole("searchbox", { name: "Search" }).fill("db");
  await expect(page).toHaveURL(/search=db/);
  const dbServers = await total(page);
  expect(dbServers).toBeLessThan(servers);

  // Open one; its page has every field; "← Assets" returns to the same list.
  const listUrl = page.url();
  await page.getByRole("table", { name: "Assets" }).getByRole("link").first().click();
  await expect(page.getByRole("region", { name: "Identity" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Platform" }).getByRole("rowheader", { name: "Operating system" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Extra columns from the import" })).toBeVisible();
  await expectAccessible(page, "an asset's page");
  await page.getByRole("link", { name: "← Assets" }).click();
  await expect(page).toHaveURL(listUrl);
});

test("an analyst edits an asset, then every asset a filter matches", async ({ page }) => {
  await signIn(page, NORTH.users.analyst);
  await page.goto(`${assetsUrl}?asset_type=application`);
  const apps = await total(page);

  await page.getByRole("button", { name: `Edit all ${apps} matching…` }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("textbox", { name: "Field" }).click();
  await page.getByRole("option", { name: "Department" }).click();
  await dialog.getByRole("textbox", { name: "New value" }).fill("Data platform team");
  await dialog.getByRole("button", { name: `Change ${apps} assets` }).click();
  await expect(dialog.getByRole("status")).toContainText(`Changed ${apps} of ${apps} matching assets`);
  await expectAccessible(page, "the bulk edit dialog");
  await dialog.getByRole("button", { name: "Close", exact: true }).click();

  await page.getByRole("table", { name: "Assets" }).getByRole("link").first().click();
  await expect(page.locator('[data-field="department"]')).toHaveText("Data platform team");

  // One asset: a field the API refuses is named.
  await page.getByRole("button", { name: "Edit fields" }).click();
  const form = page.getByRole("form", { name: "Edit the asset" });
  await form.getByRole("textbox", { name: "Priority" }).fill("42");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("alert")).toContainText("migration_priority");
  await form.getByRole("textbox", { name: "Priority" }).fill("2");
  await form.getByRole("textbox", { name: "Location" }).fill("Frankfurt DC1");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.locator('[data-field="location"]')).toHaveText("Frankfurt DC1");
  await expect(page.locator('[data-field="migration_priority"]')).toHaveText("2");
});

test("a viewer reads the inventory but gets no write button", async ({ page }) => {
  await signIn(page, NORTH.users.viewer);
  await page.goto(assetsUrl);
  await total(page);
  await expect(page.getByRole("button", { name: /^Edit all/ })).toHaveCount(0);
  await page.getByRole("table", { name: "Assets" }).getByRole("link").first().click();
  await expect(page.getByRole("region", { name: "Identity" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Edit fields" })).toHaveCount(0);
});
