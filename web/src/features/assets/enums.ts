import type { Schemas } from "../../api/client";

// The API's enums as lists for the filter and edit menus; `satisfies` checks each value against
// the generated types, so a value the API does not know fails the build.
export const ASSET_TYPES = [
  "server",
  "database",
  "application",
  "network",
  "load_balancer",
  "storage",
  "security_group",
  "virtual_machine",
  "container",
  "other",
] as const satisfies readonly Schemas["AssetType"][];

export const SIX_R_STRATEGIES = [
  "rehost",
  "replatform",
  "refactor",
  "rearchitect",
  "repurchase",
  "retire",
  "retain",
] as const satisfies readonly Schemas["SixrStrategy"][];

export const CRITICALITIES = ["low", "medium", "high", "critical"] as const satisfies readonly Schemas["CriticalityLevel"][];
