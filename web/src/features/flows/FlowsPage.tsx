import { Anchor, Button, Group, Progress, Stack, Table, Text, Tooltip } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/problem";
import { PageTitle } from "../../components/Layout";
import { Empty, Failed, Loading } from "../../components/States";
import { StatusBadge } from "../../components/StatusBadge";
import { awaitsReview, dateTime, percent, phaseLabel, PHASE_ORDER } from "../../lib/format";
import { paths } from "../../lib/paths";
import { numberParam, useQueryState } from "../../lib/urlState";
import { useCanWrite } from "../../session";
import { FlowActions } from "./FlowActions";
import { isLive } from "./useFlowEvents";

const PAGE = 20;

/** /…/flows: the engagement's discovery flows, newest first, each as a row of its six phases,
 * with pause, resume, retry and cancel. Refreshes every few seconds while one is running. */
export function FlowsPage() {
  const { account = "", engagement = "" } = useParams();
  const canWrite = useCanWrite(account);
  const [params, update] = useQueryState();
  const offset = numberParam(params, "offset", 0);
  const flows = useQuery({
    queryKey: ["flows", account, engagement, offset],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/flows", {
          params: { path: { account, engagement }, query: { limit: PAGE, offset } },
        }),
      ),
    refetchInterval: (query) => (query.state.data?.flows.some((f) => isLive(f.status)) ? 3000 : false),
  });

  return (
    <Stack>
      <PageTitle>Flows</PageTitle>
      {flows.isPending ? (
        <Loading what="the flows" />
      ) : flows.error ? (
        <Failed error={flows.error} what="the flows" />
      ) : flows.data.flows.length === 0 ? (
        <Empty>
          No discovery flow yet:{" "}
          <Anchor component={Link} to={paths.import(account, engagement)}>
            import an inventory
          </Anchor>
          .
        </Empty>
      ) : (
        <>
          <Table striped withTableBorder verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Flow</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Phases</Table.Th>
                <Table.Th>Started</Table.Th>
                <Table.Th>Last change</Table.Th>
                {canWrite && <Table.Th>Actions</Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {flows.data.flows.map((flow) => {
                const name = flow.flow_name ?? `Flow ${flow.id.slice(0, 8)}`;
                return (
                  <Table.Tr key={flow.id}>
                    <Table.Td>
                      <Anchor component={Link} to={paths.flow(account, engagement, flow.id)}>
                        {name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Stack gap={4} align="flex-start">
                        <StatusBadge status={flow.status} />
                        {awaitsReview(flow) && (
                          <Anchor component={Link} to={paths.mappings(account, engagement, flow.id)} size="sm" aria-label={`Review the field mappings of ${name}`}>
                            Review mappings
                          </Anchor>
                        )}
                      </Stack>
                    </Table.Td>
                    <Table.Td miw={260}>
                      <PhaseStrip flow={flow} />
                    </Table.Td>
                    <Table.Td>{dateTime(flow.created_at)}</Table.Td>
                    <Table.Td>{dateTime(flow.updated_at)}</Table.Td>
                    {canWrite && (
                      <Table.Td>
                        <FlowActions account={account} engagement={engagement} flowId={flow.id} status={flow.status} label={name} />
                      </Table.Td>
                    )}
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
          <Group>
            <Button variant="default" size="xs" disabled={offset === 0} onClick={() => update({ offset: Math.max(0, offset - PAGE) || null })}>
              Newer
            </Button>
            <Button variant="default" size="xs" disabled={flows.data.next_offset == null} onClick={() => update({ offset: flows.data.next_offset })}>
              Older
            </Button>
          </Group>
        </>
      )}
    </Stack>
  );
}

/** Six segments, one a phase: done, failed, or still to come; the text says the same. */
function PhaseStrip({ flow }: { flow: Schemas["FlowView"] }) {
  const done = new Set<string>(flow.phases_completed);
  return (
    <Stack gap={4}>
      <Progress.Root size="md" aria-hidden>
        {PHASE_ORDER.map((phase) => (
          <Tooltip key={phase} label={phaseLabel(phase)}>
            <Progress.Section
              value={100 / PHASE_ORDER.length}
              color={done.has(phase) ? "green" : flow.error_phase === phase ? "red" : "gray.3"}
              style={{ borderRight: "2px solid white" }}
            />
          </Tooltip>
        ))}
      </Progress.Root>
      <Text size="xs">
        {percent(flow.progress_percentage)}
        {flow.current_phase ? ` · last done: ${phaseLabel(flow.current_phase)}` : ""}
        {flow.error_phase ? ` · failed in ${phaseLabel(flow.error_phase)}` : ""}
      </Text>
    </Stack>
  );
}
