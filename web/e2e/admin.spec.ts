import { NORTH, expect, expectAccessible, signIn, test } from "./fixtures";

test("an admin adds a member, changes their role and removes them; a token is shown once", async ({ page }) => {
  await signIn(page, NORTH.users.admin);
  await page.getByRole("link", { name: "Members and tokens" }).click();
  await expect(page).toHaveURL(new RegExp(`/a/${NORTH.slug}/admin$`));
  await expect(page.getByRole("cell", { name: NORTH.users.viewer, exact: true })).toBeVisible();

  // A bad address is refused in words, with the field.
  const form = page.getByRole("form", { name: "Add a member" });
  await form.getByLabel("E-mail").fill("new.member@north.test");
  await form.getByLabel(/^Password/).fill("short");
  await form.getByRole("button", { name: "Add member" }).click();
  await expect(form.getByRole("alert")).toContainText("password");
  await form.getByLabel(/^Password/).fill("a-long-enough-password");
  await form.getByRole("button", { name: "Add member" }).click();
  await expect(form.getByRole("status")).toContainText("new.member@north.test is now analyst (a new user)");

  await page.getByRole("textbox", { name: "Role of new.member@north.test" }).click();
  await page.getByRole("option", { name: "viewer" }).click();
  await expect(page.getByRole("textbox", { name: "Role of new.member@north.test" })).toHaveValue("viewer");
  await page.reload();
  await expect(page.getByRole("textbox", { name: "Role of new.member@north.test" })).toHaveValue("viewer");
  await expectAccessible(page, "the members page");

  await page.getByRole("button", { name: "Remove new.member@north.test" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Remove" }).click();
  await expect(page.getByRole("cell", { name: "new.member@north.test" })).toHaveCount(0);

  // A token: its secret once, then only its prefix.
  await page.getByLabel("Token name").fill("ci pipeline");
  await page.getByRole("button", { name: "Issue token" }).click();
  await expect(page.getByTestId("issued-token")).toHaveText(/^mdz_/);
  await expect(page.getByRole("cell", { name: "ci pipeline", exact: true })).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("issued-token")).toHaveCount(0);
  await page.getByRole("button", { name: "Revoke ci pipeline" }).click();
  await expect(page.getByRole("row", { name: /ci pipeline/ })).toContainText("revoked");
});

test("a viewer sees the members but no button to change them", async ({ page }) => {
  await signIn(page, NORTH.users.viewer);
  await page.goto(`/a/${NORTH.slug}/admin`);
  await expect(page.getByRole("cell", { name: NORTH.users.admin, exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: /^Remove/ })).toHaveCount(0);
  await expect(page.getByRole("textbox", { name: /^Role of/ })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Add member" })).toHaveCount(0);
  await expectAccessible(page, "the members page, as a viewer");
});
