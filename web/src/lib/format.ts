/** How the pages write numbers, sizes, durations and the API's enum values. */

const PHASES: Record<string, string> = {
  data_import: "Import",
  field_mapping: "Field mapping",
  data_cleansing: "Cleansing",
  asset_inventory: "Inventory",
  dependency_analysis: "Dependencies",
  tech_debt_assessment: "6R assessment",
};

/** The six discovery phases, in the order a flow runs them. */
export const PHASE_ORDER = Object.keys(PHASES);

export function phaseLabel(phase: string | null | undefined): string {
  if (!phase) return "—";
  return PHASES[phase] ?? words(phase);
}

/** `business_criticality` → `Business criticality`. */
export function words(value: string): string {
  const spaced = value.replace(/_/g, " ");
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (value < 1024) return `${value} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let size = value / 1024;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${size.toFixed(size < 10 ? 1 : 0)} ${units[unit]}`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

export function percent(value: number | null | undefined, fraction = false): string {
  if (value === null || value === undefined) return "—";
  return `${Math.round(fraction ? value * 100 : value)} %`;
}

export function dateTime(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString() : "—";
}

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : value.toLocaleString();
}

/** Whether a flow waits for the review of its field mappings: paused with its file read but its
 * field-mapping phase not done (the pipeline pauses there when no threshold decided them). */
export function awaitsReview(flow: { status: string; phases_completed: string[] }): boolean {
  return flow.status === "paused" && flow.phases_completed.includes("data_import") && !flow.phases_completed.includes("field_mapping");
}

/** Mantine colours for flow, phase and import states. */
export function statusColor(status: string | null | undefined): string {
  switch (status) {
    case "completed":
    case "approved":
      return "green";
    case "running":
    case "processing":
      return "blue";
    case "paused":
    case "pending":
    case "suggested":
    case "warning":
      return "yellow";
    case "failed":
    case "error":
    case "rejected":
      return "red";
    default:
      return "gray";
  }
}
