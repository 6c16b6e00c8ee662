import { Badge } from "@mantine/core";
import type { Schemas } from "../../api/client";
import type { operations } from "../../api/schema";
import { count, dateTime, percent, words } from "../../lib/format";

export type Asset = Schemas["AssetView"];
/** What the listing can be asked for: filters, sort, order, cursor, limit. */
export type AssetListQuery = NonNullable<operations["list_assets"]["parameters"]["query"]>;
export type AssetSort = NonNullable<AssetListQuery["sort"]>;

/** A column of the inventory grid: its field, heading, the API's sort key when the server can
 * sort by it, and how a cell is written. */
export interface AssetColumn {
  id: keyof Asset;
  header: string;
  sort?: AssetSort;
  /** Shown before the reader picks columns. */
  initial?: boolean;
  /** How a cell is written; `open` links to the asset's page. */
  cell?: (asset: Asset, open: (asset: Asset, text: string) => React.ReactNode) => React.ReactNode;
}

const text = (value: unknown) => (value === null || value === undefined || value === "" ? "—" : String(value));

export const ASSET_COLUMNS: AssetColumn[] = [
  {
    id: "name",
    header: "Name",
    sort: "name",
    initial: true,
    cell: (asset, open) => open(asset, asset.name),
  },
  { id: "asset_type", header: "Type", sort: "asset_type", initial: true, cell: (a) => words(a.asset_type) },
  { id: "hostname", header: "Hostname", sort: "hostname" },
  { id: "ip_address", header: "IP address", sort: "ip_address", initial: true },
  { id: "fqdn", header: "FQDN" },
  { id: "environment", header: "Environment", sort: "environment", initial: true },
  { id: "operating_system", header: "Operating system", sort: "operating_system", initial: true },
  { id: "os_version", header: "OS version" },
  { id: "cpu_cores", header: "CPU cores", sort: "cpu_cores", cell: (a) => count(a.cpu_cores) },
  { id: "memory_gb", header: "Memory (GB)", sort: "memory_gb", cell: (a) => count(a.memory_gb) },
  { id: "storage_gb", header: "Storage (GB)", sort: "storage_gb", cell: (a) => count(a.storage_gb) },
  { id: "location", header: "Location" },
  { id: "criticality", header: "Criticality", sort: "criticality", initial: true },
  { id: "business_criticality", header: "Business criticality", sort: "business_criticality" },
  {
    id: "six_r_strategy",
    header: "6R strategy",
    sort: "six_r_strategy",
    initial: true,
    cell: (a) => (a.six_r_strategy ? <Badge variant="light">{a.six_r_strategy}</Badge> : "—"),
  },
  { id: "status", header: "Status", sort: "status" },
  { id: "application_name", header: "Application" },
  { id: "business_owner", header: "Business owner" },
  { id: "technical_owner", header: "Technical owner" },
  { id: "department", header: "Department" },
  { id: "business_unit", header: "Business unit" },
  { id: "migration_priority", header: "Priority", sort: "migration_priority" },
  { id: "migration_wave", header: "Wave", sort: "migration_wave" },
  { id: "completeness_score", header: "Completeness", cell: (a) => percent(a.completeness_score) },
  { id: "quality_score", header: "Quality", cell: (a) => percent(a.quality_score) },
  { id: "created_at", header: "Created", sort: "created_at", cell: (a) => dateTime(a.created_at) },
  { id: "updated_at", header: "Updated", sort: "updated_at", cell: (a) => dateTime(a.updated_at) },
];

export function cellText(asset: Asset, column: AssetColumn): React.ReactNode {
  return text(asset[column.id]);
}

export const INITIAL_COLUMNS = ASSET_COLUMNS.filter((c) => c.initial).map((c) => c.id as string);
