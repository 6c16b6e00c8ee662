import { useState } from "react";
import { Alert, Anchor, Button, Card, NumberInput, Group, Progress, SimpleGrid, Stack, Table, Text, Timeline, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/problem";
import { PageTitle } from "../../components/Layout";
import { ProblemAlert } from "../../components/ProblemAlert";
import { Failed, Loading } from "../../components/States";
import { StatusBadge } from "../../components/StatusBadge";
import { count, duration, percent, phaseLabel, PHASE_ORDER, words } from "../../lib/format";
import { paths } from "../../lib/paths";
import { useCanWrite } from "../../session";
import { FlowActions } from "./FlowActions";
import { ImportIssues } from "./ImportIssues";
import { isLive, useFlowEvents } from "./useFlowEvents";

type Summary = Schemas["FlowSummary"];

/** /…/flows/{flow}: one discovery flow, live while it runs (its event stream), then what it did. */
export function FlowPage() {
  const { account = "", engagement = "", flow = "" } = useParams();
  const canWrite = useCanWrite(account);
  const summary = useQuery({
    queryKey: ["flow", flow, "summary"],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/summary", {
          params: { path: { account, engagement, flow_id: flow } },
        }),
      ),
  });
  const eventsUrl = `/api/v1/client-accounts/${encodeURIComponent(account)}/engagements/${encodeURIComponent(engagement)}/flows/${flow}/events`;
  const streamError = useFlowEvents(eventsUrl, flow, isLive(summary.data?.status));

  if (summary.isPending) return <Loading what="the flow" />;
  if (summary.error) return <Failed error={summary.error} what="flow" />;
  const data = summary.data;
  const status = data.status;
  const share = data.progress_percentage;
  const running = data.phases.find((p) => p.status === "running")?.phase ?? null;
  const awaitingReview = status === "paused" && data.mappings.some((m) => m.status === "suggested");

  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <div>
          <PageTitle>{data.import?.filename ?? data.flow_name ?? "Discovery flow"}</PageTitle>
          <Group gap="xs">
            <StatusBadge status={status} />
            {running && <Text size="sm">Running: {phaseLabel(running)}</Text>}
          </Group>
        </div>
        {canWrite && <FlowActions account={account} engagement={engagement} flowId={flow} status={status} />}
      </Group>
      <Progress value={share} aria-label="Flow progress" size="lg" />
      <Text size="sm" role="status" aria-live="polite">
        {percent(share)} of the six phases done
      </Text>
      {streamError && <ProblemAlert error={new Error(streamError)} title="Live progress stopped" />}
      {data.error_message && (
        <Alert color="red" title={`Failed in ${phaseLabel(data.error_phase)}`} role="alert">
          {data.error_message}
        </Alert>
      )}
      {awaitingReview && (
        <Alert color="yellow" title="Field mappings wait for a review">
          <Text size="sm">
            The flow paused after suggesting how the file's columns map onto asset fields. Accept the suggestions at or
            above a confidence (the rest stay unmapped, kept as extra columns) and go on, or review them one by one:
          </Text>
          <Anchor component={Link} to={paths.mappings(account, engagement, flow)} fw={600}>
            Review the field mappings
          </Anchor>
          {canWrite && <AcceptAndResume account={account} engagement={engagement} flow={flow} />}
        </Alert>
      )}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Phases summary={data} />
        <Stack>
          {data.import && <ImportFigures summary={data} />}
          <Inventory summary={data} account={account} engagement={engagement} flow={flow} />
        </Stack>
      </SimpleGrid>
      {data.import && <ImportIssues account={account} engagement={engagement} flow={flow} imported={data.import} />}
    </Stack>
  );
}

/** Resumes a flow paused for review, accepting the suggested mappings at or above a confidence
 * (POST …/resume?accept_above=…); the API's refusal is shown in words. */
function AcceptAndResume({ account, engagement, flow }: { account: string; engagement: string; flow: string }) {
  const queries = useQueryClient();
  const [threshold, setThreshold] = useState<number | string>(0.9);
  const resume = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/resume", {
          params: { path: { account, engagement, flow_id: flow }, query: { accept_above: Number(threshold) } },
        }),
      ),
    onSettled: () => queries.invalidateQueries({ queryKey: ["flow", flow] }),
  });
  return (
    <Stack gap="xs" mt="xs">
      {resume.error && <ProblemAlert error={resume.error} title="Not resumed" />}
      <Group align="flex-end">
        <NumberInput
          label="Accept mappings at or above"
          min={0}
          max={1}
          step={0.05}
          decimalScale={2}
          value={threshold}
          onChange={setThreshold}
          w={220}
        />
        <Button onClick={() => resume.mutate()} loading={resume.isPending}>
          Accept and resume
        </Button>
      </Group>
    </Stack>
  );
}

/** The six phases in order, each with its state, duration and figures. */
function Phases({ summary }: { summary: Summary }) {
  const byName = new Map(summary.phases.map((p) => [p.phase, p]));
  const done = PHASE_ORDER.filter((p) => byName.get(p)?.status === "completed").length;
  return (
    <Card withBorder component="section" aria-labelledby="phases-title">
      <Title order={2} size="h4" id="phases-title" mb="sm">
        Phases
      </Title>
      <Timeline active={done - 1} bulletSize={18} lineWidth={2}>
        {PHASE_ORDER.map((name) => {
          const phase = byName.get(name);
          const status = phase?.status ?? "pending";
          const metrics = Object.entries((phase?.metrics ?? {}) as Record<string, unknown>).filter(([k, v]) => k !== "duration_ms" && (typeof v === "number" || typeof v === "string"));
          return (
            <Timeline.Item key={name} title={phaseLabel(name)}>
              <Group gap="xs">
                <StatusBadge status={status} />
                <Text size="sm" data-testid={`duration-${name}`}>
                  {duration(phase?.duration_ms)}
                </Text>
              </Group>
              {metrics.length > 0 && (
                <Text size="xs" c="dimmed">
                  {metrics
                    .slice(0, 4)
                    .map(([k, v]) => `${words(k)}: ${typeof v === "number" ? v.toLocaleString() : String(v)}`)
                    .join(" · ")}
                </Text>
              )}
            </Timeline.Item>
          );
        })}
      </Timeline>
    </Card>
  );
}

function ImportFigures({ summary }: { summary: Summary }) {
  const imported = summary.import;
  if (!imported) return null;
  return (
    <Card withBorder component="section" aria-labelledby="import-title">
      <Title order={2} size="h4" id="import-title" mb="sm">
        The file
      </Title>
      <Table>
        <Table.Tbody>
          <Table.Tr>
            <Table.Th scope="row">Records</Table.Th>
            <Table.Td>{count(imported.total_records)}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th scope="row">Valid</Table.Th>
            <Table.Td>{count(imported.valid_records)}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th scope="row">Invalid (left out)</Table.Th>
            <Table.Td>{count(imported.invalid_records)}</Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th scope="row">Valid with warnings</Table.Th>
            <Table.Td>{count(imported.rows_with_warnings)}</Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
    </Card>
  );
}

function Inventory({ summary, account, engagement, flow }: { summary: Summary; account: string; engagement: string; flow: string }) {
  const inventory = summary.inventory;
  if (inventory.assets === 0) return null;
  return (
    <Card withBorder component="section" aria-labelledby="inventory-title">
      <Title order={2} size="h4" id="inventory-title" mb="sm">
        Inventory
      </Title>
      <Text>
        {count(inventory.assets)} assets, {count(inventory.dependencies)} dependencies; completeness{" "}
        {percent(inventory.average_completeness)}, quality {percent(inventory.average_quality)} (of 100).
      </Text>
      <Text size="sm">
        {Object.entries(inventory.by_type)
          .map(([type, n]) => `${words(type)}: ${n}`)
          .join(" · ")}
      </Text>
      <Anchor component={Link} to={`${paths.assets(account, engagement)}?discovery_flow_id=${flow}`}>
        See the assets this flow found
      </Anchor>
    </Card>
  );
}
