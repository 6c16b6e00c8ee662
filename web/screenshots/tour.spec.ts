import { resolve } from "node:path";
import { expect, test, type Page } from "@playwright/test";

// Runs against the demo's data (./scripts/demo), signed in as its admin; one PNG a page, named as
// the README's tour shows them.
const ACCOUNT = "acme-retail";
const ENGAGEMENT = "cloud-2027";
const EMAIL = `admin@${ACCOUNT}.example`;
const PASSWORD = "modernize-demo-password";
const base = `/a/${ACCOUNT}/e/${ENGAGEMENT}`;

async function shoot(page: Page, name: string, fullPage = false): Promise<void> {
  // Let charts and the graph finish their first layout.
  await page.waitForLoadState("networkidle");
  await page.waitForTimeout(500);
  await page.screenshot({ path: resolve(`../docs/screenshots/${name}.png`), fullPage });
}

test.describe.configure({ mode: "serial" });

test("the tour", async ({ page }) => {
  await page.goto("/sign-in");
  await expect(page.getByRole("heading", { name: "Sign in to Modernize" })).toBeVisible();
  await shoot(page, "sign-in");
  await page.getByLabel("E-mail").fill(EMAIL);
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();

  await page.goto(base);
  await expect(page.getByRole("region", { name: "Assets by type" })).toBeVisible();
  await expect(page.getByRole("region", { name: "6R distribution" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Data quality of the newest imports" })).toBeVisible();
  await shoot(page, "dashboard", true);

  await page.goto(`${base}/assets`);
  await expect(page.getByRole("table", { name: "Assets" })).toBeVisible();
  await shoot(page, "assets");

  await page.goto(`${base}/assets?search=dub-custom-db01`);
  await page.getByRole("table", { name: "Assets" }).getByRole("link").first().click();
  await expect(page.getByRole("region", { name: "6R strategy" })).toBeVisible();
  await shoot(page, "asset");

  await page.getByRole("link", { name: "Show the graph" }).click();
  await expect(page.getByRole("region", { name: "The same dependencies as a list" })).toBeVisible();
  await shoot(page, "dependencies");

  await page.goto(`${base}/import`);
  await expect(page.getByRole("region", { name: "Imports" })).toBeVisible();
  await shoot(page, "import");

  await page.goto(`${base}/flows`);
  await expect(page.getByRole("table")).toBeVisible();
  await shoot(page, "flows");

  await page.getByRole("table").getByRole("link").first().click();
  await expect(page.getByRole("region", { name: "Phases" })).toBeVisible();
  await shoot(page, "flow");
  const flowUrl = new URL(page.url()).pathname;

  const issues = page.getByRole("region", { name: "Bad rows and warnings" });
  await expect(issues.getByRole("table", { name: "Import issues" })).toBeVisible();
  await issues.scrollIntoViewIfNeeded();
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await shoot(page, "issues");

  await page.goto(`${flowUrl}/mappings`);
  await expect(page.getByRole("table", { name: "Field mappings" })).toBeVisible();
  await shoot(page, "mappings");

  await page.goto(`/a/${ACCOUNT}/admin`);
  await expect(page.getByRole("heading", { name: "Members", exact: true })).toBeVisible();
  await shoot(page, "admin");
});
