import { NORTH, PASSWORD, SOUTH, expect, expectAccessible, screenshot, signIn, test } from "./fixtures";

test("a wrong password is refused in words, the right one signs in", async ({ page }) => {
  await page.goto("/");
  // No session: the app sends the visitor to the sign-in page, remembering where they were going.
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await expect(page.getByRole("heading", { name: "Sign in to Modernize" })).toBeVisible();
  await expectAccessible(page, "the sign-in page");
  await screenshot(page, "sign-in");

  await page.getByLabel("E-mail").fill(NORTH.users.admin);
  await page.getByLabel(/^Password/).fill(`${PASSWORD}-wrong`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("Unauthorized");

  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  await expect(page.getByText(`${NORTH.users.admin} · admin`)).toBeVisible();
});

test("signing out ends the session", async ({ page }) => {
  await signIn(page, NORTH.users.analyst);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in\?next=/);
});

test("another tenant's client account shows not found", async ({ page }) => {
  await signIn(page, SOUTH.users.admin);
  await page.goto(`/a/${NORTH.slug}`);
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  await expectAccessible(page, "the not-found page");
});
