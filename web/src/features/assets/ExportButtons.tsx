import { Button, Group } from "@mantine/core";
import type { paths } from "../../api/schema";
import type { AssetSort } from "./columns";
import type { Filter } from "./AssetsPage";

// The export routes, checked against the generated paths (a renamed route fails the build).
const CSV = "/api/v1/client-accounts/{account}/engagements/{engagement}/assets/export.csv" satisfies keyof paths;
const XLSX = "/api/v1/client-accounts/{account}/engagements/{engagement}/assets/export.xlsx" satisfies keyof paths;

/** Downloads what the grid shows (the same filters and sort, every page) as CSV or XLSX: plain
 * links, so the browser streams the file to disk with the session cookie. */
export function ExportButtons({
  account,
  engagement,
  filter,
  sort,
  order,
}: {
  account: string;
  engagement: string;
  filter: Filter;
  sort: AssetSort;
  order: "asc" | "desc";
}) {
  const query = new URLSearchParams({ ...filter, sort, order }).toString();
  const href = (route: string) =>
    `${route.replace("{account}", encodeURIComponent(account)).replace("{engagement}", encodeURIComponent(engagement))}?${query}`;
  return (
    <Group gap="xs">
      <Button component="a" href={href(CSV)} download variant="default" size="xs">
        Export CSV
      </Button>
      <Button component="a" href={href(XLSX)} download variant="default" size="xs">
        Export XLSX
      </Button>
    </Group>
  );
}
