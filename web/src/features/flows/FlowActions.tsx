import { Button, Group } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { ProblemAlert } from "../../components/ProblemAlert";

type Action = "pause" | "resume" | "retry" | "cancel";

/** Which lifecycle actions a flow in this status takes (the API answers 409 to the others). */
export function actionsFor(status: string): Action[] {
  switch (status) {
    case "running":
    case "initialized":
    case "pending":
      return ["pause", "cancel"];
    case "paused":
      return ["resume", "cancel"];
    case "failed":
      return ["retry", "cancel"];
    default:
      return [];
  }
}

const LABELS: Record<Action, string> = { pause: "Pause", resume: "Resume", retry: "Retry", cancel: "Cancel flow" };

/** Pause, resume, retry and cancel buttons for one flow (analysts and admins only: the caller
 * decides whether to render it). */
export function FlowActions({
  account,
  engagement,
  flowId,
  status,
  label,
}: {
  account: string;
  engagement: string;
  flowId: string;
  status: string;
  /** Names the flow in the buttons' accessible names when several flows are listed. */
  label?: string;
}) {
  const queries = useQueryClient();
  const run = useMutation({
    mutationFn: async (action: Action) => {
      const params = { params: { path: { account, engagement, flow_id: flowId } } };
      switch (action) {
        case "pause":
          return unwrap(await api.POST("/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/pause", params));
        case "resume":
          return unwrap(await api.POST("/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/resume", params));
        case "retry":
          return unwrap(await api.POST("/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/retry", params));
        case "cancel":
          return unwrap(await api.POST("/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/cancel", params));
      }
    },
    onSettled: () =>
      Promise.all([
        queries.invalidateQueries({ queryKey: ["flow", flowId] }),
        queries.invalidateQueries({ queryKey: ["flows", account, engagement] }),
      ]),
  });
  const actions = actionsFor(status);
  if (actions.length === 0 && !run.error) return null;
  return (
    <Group gap="xs">
      {actions.map((action) => (
        <Button
          key={action}
          size="xs"
          variant={action === "cancel" ? "subtle" : "light"}
          color={action === "cancel" ? "red" : undefined}
          loading={run.isPending && run.variables === action}
          disabled={run.isPending}
          aria-label={label ? `${LABELS[action]} ${label}` : undefined}
          onClick={() => run.mutate(action)}
        >
          {LABELS[action]}
        </Button>
      ))}
      {run.error && <ProblemAlert error={run.error} title="The flow did not change" />}
    </Group>
  );
}
