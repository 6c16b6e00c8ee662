// Fails when an installed package declares it needs a newer Node.js than Debian 12 ships
// (nodejs 18.19), the oldest Node.js the build must work with (docs: README, web/).
import { readFileSync } from "node:fs";
import semver from "semver";

const OLDEST_NODE = "18.19.0";
const lock = JSON.parse(readFileSync(new URL("../package-lock.json", import.meta.url), "utf8"));
const refused = [];
for (const [path, pkg] of Object.entries(lock.packages)) {
  const range = pkg.engines?.node;
  if (!path || !range || pkg.optional) continue;
  if (!semver.satisfies(OLDEST_NODE, range, { includePrerelease: true })) {
    refused.push(`${path.replace(/^.*node_modules\//, "")}@${pkg.version} needs node ${range}`);
  }
}
if (refused.length > 0) {
  console.error(`packages that do not run on Node.js ${OLDEST_NODE}:\n  ${refused.join("\n  ")}`);
  process.exit(1);
}
console.log(`every package in package-lock.json accepts Node.js ${OLDEST_NODE}`);
