import { NORTH, SOUTH, expect, expectAccessible, screenshot, signIn, test } from "./fixtures";

test("the only engagement opens by itself, with the account and engagement switchers set", async ({ page }) => {
  await signIn(page, NORTH.users.analyst);
  // One account, one engagement: the app goes straight to its dashboard.
  await expect(page).toHaveURL(new RegExp(`/a/${NORTH.slug}/e/${NORTH.engagement}$`));
  await expect(page.getByRole("heading", { name: NORTH.engagementName })).toBeVisible();
  await expect(page.getByRole("textbox", { name: "Client account" })).toHaveValue(NORTH.slug);
  await expect(page.getByRole("textbox", { name: "Engagement" })).toHaveValue(NORTH.engagementName);
  await expect(page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Dashboard" })).toBeVisible();
  // The inventory's figures, each a link into the grid filtered to it.
  await expect(page.getByRole("region", { name: "Assets by type" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Assets by environment" }).getByRole("link", { name: /^Production: \d+$/ })).toBeVisible();
  // The 6R distribution, the newest flows and the data quality of their imports.
  await expect(page.getByRole("region", { name: "6R distribution" }).getByRole("link").first()).toBeVisible();
  await expect(page.getByRole("region", { name: "Flows" }).getByRole("table", { name: "Newest flows" })).toContainText("completed");
  const quality = page.getByRole("table", { name: "Data quality of the newest imports" });
  await expect(quality).toContainText("inventory.csv");
  await expectAccessible(page, "the dashboard");
  await page.getByRole("region", { name: "6R distribution" }).getByRole("link").first().click();
  await expect(page).toHaveURL(/\/assets\?six_r_strategy=[a-z]+$/);
  await page.goBack();
  await page.getByRole("region", { name: "Assets by type" }).getByRole("link", { name: /^Server: \d+$/ }).click();
  await expect(page).toHaveURL(/\/assets\?asset_type=server$/);
  await expect(page.getByRole("textbox", { name: "Type" })).toHaveValue("Server");
});

test("another tenant's engagement URL shows not found", async ({ page }) => {
  await signIn(page, SOUTH.users.admin);
  await page.goto(`/a/${NORTH.slug}/e/${NORTH.engagement}/assets`);
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  // Its own account, but an engagement that does not exist: the API's 404, in words.
  await page.goto(`/a/${SOUTH.slug}/e/${NORTH.engagement}`);
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  await expect(page.getByText("This engagement does not exist, or you have no access to it.")).toBeVisible();
  await screenshot(page, "not-found");
});
