import { Badge } from "@mantine/core";
import { statusColor } from "../lib/format";

/** A flow's, phase's, import's or mapping's state as a coloured word. */
export function StatusBadge({ status }: { status: string | null | undefined }) {
  return (
    // At its text's width: a narrow table column would otherwise cut the word short.
    <Badge variant="light" color={statusColor(status)} miw="max-content">
      {status ?? "—"}
    </Badge>
  );
}
