import { readFileSync } from "node:fs";
import { NORTH, expect, expectAccessible, signIn, test } from "./fixtures";

const base = `/a/${NORTH.slug}/e/${NORTH.engagement}`;

/** 60 servers with a formula-like cell (a warning each) and one row too long (an error: left
 * out): 61 issues, two pages of 50. */
function troubled(): string {
  const rows = ["hostname,ip_address,operating_system,memory_gb"];
  for (let i = 1; i <= 60; i += 1) rows.push(`srv-${i},10.0.${Math.floor(i / 250)}.${i % 250},=1+${i},8`);
  rows.push("srv-61,10.0.0.61,Ubuntu 22.04,8,surplus");
  return `${rows.join("\n")}\n`;
}

test("every bad row and warning of an import, paged, and all of them as CSV", async ({ page }) => {
  await signIn(page, NORTH.users.analyst);
  await page.goto(`${base}/import`);
  await page.locator('input[type="file"]').setInputFiles({ name: "troubled.csv", mimeType: "text/csv", buffer: Buffer.from(troubled()) });
  await page.getByRole("textbox", { name: "Accept mappings at or above" }).fill("0.5");
  await page.getByRole("button", { name: "Upload and start discovery" }).click();
  await expect(page.getByRole("heading", { name: "troubled.csv" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Inventory" })).toBeVisible({ timeout: 60_000 });

  const section = page.getByRole("region", { name: "Bad rows and warnings" });
  const table = section.getByRole("table", { name: "Import issues" });
  await expect(section.getByText("1 invalid rows (left out of the inventory), 60 valid rows with warnings.")).toBeVisible();
  await expect(table.getByRole("row")).toHaveCount(51);
  await expect(section.getByText("Issues 1–50")).toBeVisible();
  await expect(table.getByRole("row").nth(1)).toContainText("=1+1");
  await expectAccessible(page, "an import's issues");

  // The next page by the keyset cursor, in the URL; the back button returns to the first.
  await section.getByRole("button", { name: "Next issues" }).click();
  await expect(page).toHaveURL(/issues_after=/);
  await expect(section.getByText("Issues 51–61")).toBeVisible();
  await expect(table.getByRole("row")).toHaveCount(12);
  await expect(table).toContainText("long_row");
  await expect(section.getByRole("button", { name: "Next issues" })).toBeDisabled();
  await page.goBack();
  await expect(section.getByText("Issues 1–50")).toBeVisible();
  await section.getByRole("button", { name: "Next issues" }).click();
  await section.getByRole("button", { name: "Previous issues" }).click();
  await expect(section.getByText("Issues 1–50")).toBeVisible();
  await expect(page).not.toHaveURL(/issues_after=/);

  // All of them as CSV.
  const download = page.waitForEvent("download");
  await section.getByRole("link", { name: "Download all as CSV" }).click();
  const lines = readFileSync(await (await download).path(), "utf8").trim().split(/\r?\n/);
  expect(lines[0]).toBe("row_number,file_row,column,value,severity,kind,reason,issue_index,sheet");
  expect(lines.length).toBe(62);
  expect(lines.filter((line) => line.includes("formula_injection")).length).toBe(60);
});
