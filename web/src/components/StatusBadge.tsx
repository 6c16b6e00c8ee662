import { Badge } from "@mantine/core";
import { statusColor } from "../lib/format";

/** A flow's, phase's, import's or mapping's state as a coloured word. */
export function StatusBadge({ status }: { status: string | null | undefined }) {
  return (
    <Badge variant="light" color={statusColor(status)}>
      {status ?? "—"}
    </Badge>
  );
}
