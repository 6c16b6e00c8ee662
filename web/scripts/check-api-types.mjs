// Fails when src/api/schema.d.ts is not what openapi-typescript generates from the committed
// OpenAPI document (docs/openapi.json): regenerate with `npm run gen:api`.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

if (!existsSync("../docs/openapi.json")) {
  // Until the REST API (issue 12) commits its document, the types come from its first draft.
  console.log("docs/openapi.json is not committed yet: web/src/api/schema.d.ts not checked");
  process.exit(0);
}
const fresh = join(mkdtempSync(join(tmpdir(), "modernize-api-types-")), "schema.d.ts");
execFileSync(
  process.execPath,
  ["node_modules/openapi-typescript/bin/cli.js", "../docs/openapi.json", "-o", fresh],
  { stdio: ["ignore", "ignore", "inherit"] },
);
if (readFileSync(fresh, "utf8") !== readFileSync("src/api/schema.d.ts", "utf8")) {
  console.error("web/src/api/schema.d.ts is stale: run `npm --prefix web run gen:api` and commit it");
  process.exit(1);
}
console.log("web/src/api/schema.d.ts matches docs/openapi.json");
