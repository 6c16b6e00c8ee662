import { Anchor, Card, Group, Stack, Table, Text, Title } from "@mantine/core";
import { useQueries, useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Empty, Failed, Loading } from "../../components/States";
import { StatusBadge } from "../../components/StatusBadge";
import { awaitsReview, count, dateTime, percent, words } from "../../lib/format";
import { paths } from "../../lib/paths";
import { CountChart, type Slice } from "./CountChart";

/** The flows the dashboard looks at: the newest ones (their summaries give the data quality). */
const RECENT_FLOWS = 5;

/** The 6R distribution: assets per strategy in force (GET …/six-r/summary, which counts on the
 * server), each bar a link into the inventory filtered to it; "Unassessed" for assets without one. */
export function SixRPanel({ account, engagement }: { account: string; engagement: string }) {
  const summary = useQuery({
    queryKey: ["six-r-summary", account, engagement],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/six-r/summary", {
          params: { path: { account, engagement } },
        }),
      ),
  });
  if (summary.isPending) return <Loading what="the 6R distribution" />;
  if (summary.error) return <Failed error={summary.error} what="the 6R distribution" />;
  const assets = paths.assets(account, engagement);
  const slices: Slice[] = [
    ...summary.data.strategies
      .filter((s) => s.count > 0)
      .map((s) => ({ label: words(s.strategy), value: s.count, href: `${assets}?six_r_strategy=${s.strategy}` })),
    ...(summary.data.unassessed > 0 ? [{ label: "Unassessed", value: summary.data.unassessed }] : []),
  ];
  return <CountChart title="6R distribution" slices={slices} empty="No asset yet." />;
}

function useRecentFlows(account: string, engagement: string) {
  return useQuery({
    queryKey: ["flows", account, engagement, "recent"],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/flows", {
          params: { path: { account, engagement }, query: { limit: RECENT_FLOWS } },
        }),
      ),
  });
}

/** The newest flows with their state and progress, and a link to the review of those that wait
 * for one. */
export function FlowsPanel({ account, engagement }: { account: string; engagement: string }) {
  const flows = useRecentFlows(account, engagement);
  return (
    <Card withBorder component="section" aria-labelledby="flows-panel-title">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4" id="flows-panel-title">
          Flows
        </Title>
        <Anchor component={Link} to={paths.flows(account, engagement)} size="sm">
          Every flow
        </Anchor>
      </Group>
      {flows.isPending ? (
        <Loading what="the flows" />
      ) : flows.error ? (
        <Failed error={flows.error} what="the flows" />
      ) : flows.data.flows.length === 0 ? (
        <Empty>No discovery flow yet.</Empty>
      ) : (
        <Table aria-label="Newest flows">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Flow</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Done</Table.Th>
              <Table.Th>Last change</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {flows.data.flows.map((flow) => {
              const name = flow.flow_name ?? `Flow ${flow.id.slice(0, 8)}`;
              return (
                <Table.Tr key={flow.id}>
                  <Table.Td>
                    <Anchor component={Link} to={paths.flow(account, engagement, flow.id)} size="sm">
                      {name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <Group gap="xs">
                      <StatusBadge status={flow.status} />
                      {awaitsReview(flow) && (
                        <Anchor
                          component={Link}
                          to={paths.mappings(account, engagement, flow.id)}
                          size="sm"
                          aria-label={`Review the field mappings of ${name}`}
                        >
                          Review mappings
                        </Anchor>
                      )}
                    </Group>
                  </Table.Td>
                  <Table.Td>{percent(flow.progress_percentage)}</Table.Td>
                  <Table.Td>{dateTime(flow.updated_at)}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}

/** The mappings' average confidence (of those with a target), or null without any. */
function averageConfidence(mappings: Schemas["MappingLine"][]): number | null {
  const known = mappings.flatMap((m) => (m.target_field && typeof m.confidence === "number" ? [m.confidence] : []));
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length;
}

/** Data quality of the newest imports, from their flows' summaries: records read, invalid rows,
 * rows with warnings, the mappings (mapped columns and their average confidence) and the
 * inventory's average completeness and quality. */
export function QualityPanel({ account, engagement }: { account: string; engagement: string }) {
  const flows = useRecentFlows(account, engagement);
  const withImport = (flows.data?.flows ?? []).filter((f) => f.data_import_id);
  const summaries = useQueries({
    queries: withImport.map((flow) => ({
      queryKey: ["flow", flow.id, "summary"],
      queryFn: async () =>
        unwrap(
          await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/summary", {
            params: { path: { account, engagement, flow_id: flow.id } },
          }),
        ),
    })),
  });
  const failed = flows.error ?? summaries.find((s) => s.error)?.error;
  const pending = flows.isPending || summaries.some((s) => s.isPending);
  return (
    <Card withBorder component="section" aria-labelledby="quality-title">
      <Title order={2} size="h4" id="quality-title" mb="sm">
        Data quality
      </Title>
      {failed ? (
        <Failed error={failed} what="the data quality" />
      ) : pending ? (
        <Loading what="the data quality" />
      ) : withImport.length === 0 ? (
        <Empty>No import yet.</Empty>
      ) : (
        <Stack gap="xs">
          <Table.ScrollContainer minWidth={640}>
            <Table aria-label="Data quality of the newest imports">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>File</Table.Th>
                  <Table.Th>Records</Table.Th>
                  <Table.Th>Invalid</Table.Th>
                  <Table.Th>With warnings</Table.Th>
                  <Table.Th>Columns mapped</Table.Th>
                  <Table.Th>Mapping confidence</Table.Th>
                  <Table.Th>Completeness</Table.Th>
                  <Table.Th>Quality</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {withImport.map((flow, i) => {
                  const summary = summaries[i]?.data;
                  if (!summary) return null;
                  const mapped = summary.mappings.filter((m) => m.target_field && m.status !== "rejected").length;
                  return (
                    <Table.Tr key={flow.id}>
                      <Table.Td>
                        <Anchor component={Link} to={paths.flow(account, engagement, flow.id)} size="sm">
                          {summary.import?.filename ?? flow.flow_name ?? flow.id.slice(0, 8)}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>{count(summary.import?.total_records)}</Table.Td>
                      <Table.Td>{count(summary.import?.invalid_records)}</Table.Td>
                      <Table.Td>{count(summary.import?.rows_with_warnings)}</Table.Td>
                      <Table.Td>
                        {count(mapped)} of {count(summary.mappings.length)}
                      </Table.Td>
                      <Table.Td>{percent(averageConfidence(summary.mappings), true)}</Table.Td>
                      <Table.Td>{percent(summary.inventory.average_completeness)}</Table.Td>
                      <Table.Td>{percent(summary.inventory.average_quality)}</Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Text size="xs" c="dimmed">
            The {count(withImport.length)} newest imports. Invalid rows are left out of the inventory; the flow's page lists
            each one.
          </Text>
        </Stack>
      )}
    </Card>
  );
}
