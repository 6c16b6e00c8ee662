import { useState } from "react";
import { Anchor, Badge, Button, Card, Group, NumberInput, Select, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/problem";
import { PageTitle } from "../../components/Layout";
import { ProblemAlert } from "../../components/ProblemAlert";
import { Empty, Failed, Loading } from "../../components/States";
import { StatusBadge } from "../../components/StatusBadge";
import { count, percent } from "../../lib/format";
import { paths } from "../../lib/paths";
import { useCanWrite } from "../../session";

type Mapping = Schemas["MappingView"];
type Change = Schemas["MappingChange"];

/** The Select's value for "keep the column unmapped" (the API's `target_field: null`). */
const UNMAPPED = "(unmapped)";

/** One of the engine's other candidates for a column (`alternatives`: any JSON in the document;
 * the engine writes `{target_field, confidence, reason}`). */
interface Alternative {
  target_field: string;
  confidence?: number;
}

function alternativesOf(mapping: Mapping): Alternative[] {
  if (!Array.isArray(mapping.alternatives)) return [];
  return mapping.alternatives.flatMap((a: unknown) => {
    if (typeof a !== "object" || a === null) return [];
    const { target_field, confidence } = a as Record<string, unknown>;
    return typeof target_field === "string"
      ? [{ target_field, confidence: typeof confidence === "number" ? confidence : undefined }]
      : [];
  });
}

function samplesOf(mapping: Mapping): string[] {
  if (!Array.isArray(mapping.sample_values)) return [];
  return mapping.sample_values.map((v: unknown) => (typeof v === "string" ? v : JSON.stringify(v)));
}

/** /…/flows/{flow}/mappings: how the file's columns map onto asset fields. Each column with its
 * sample values, the engine's suggestion, confidence and explanation; analysts approve, reject or
 * pick another field (from the API's `target_fields`), accept every suggestion above a confidence,
 * then resume the flow. Viewers read. */
export function MappingsPage() {
  const { account = "", engagement = "", flow = "" } = useParams();
  const canWrite = useCanWrite(account);
  const flowPath = { account, engagement, flow_id: flow };
  const mappings = useQuery({
    queryKey: ["flow", flow, "mappings"],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/mappings", {
          params: { path: flowPath },
        }),
      ),
  });
  const view = useQuery({
    queryKey: ["flow", flow, "view"],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}", {
          params: { path: flowPath },
        }),
      ),
  });

  if (mappings.isPending || view.isPending) return <Loading what="the field mappings" />;
  if (mappings.error) return <Failed error={mappings.error} what="flow" />;
  if (view.error) return <Failed error={view.error} what="flow" />;
  const list = mappings.data.mappings;
  const awaiting = list.filter((m) => m.status === "suggested").length;
  const approved = list.filter((m) => m.status === "approved").length;
  const rejected = list.filter((m) => m.status === "rejected").length;
  const paused = view.data.status === "paused";

  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <div>
          <PageTitle>Field mappings</PageTitle>
          <Group gap="xs">
            <Text size="sm">Flow</Text>
            <StatusBadge status={view.data.status} />
            <Anchor component={Link} to={paths.flow(account, engagement, flow)} size="sm">
              Back to the flow
            </Anchor>
          </Group>
        </div>
      </Group>
      <Text size="sm" role="status" aria-live="polite" data-testid="review-counts">
        {count(list.length)} columns: {count(awaiting)} awaiting review, {count(approved)} approved, {count(rejected)} rejected
      </Text>
      {canWrite && list.length > 0 && paused && (
        <ReviewActions account={account} engagement={engagement} flow={flow} awaiting={awaiting} />
      )}
      {canWrite && list.length > 0 && !paused && (
        <Text size="sm">
          This flow is {view.data.status}, not waiting for a review: a decision here does not change the assets it made, but
          the engine remembers reviewers' decisions for this client account's next imports.
        </Text>
      )}
      {list.length === 0 ? (
        <Empty>This flow has no field mapping yet: it has not read the file's columns.</Empty>
      ) : (
        <MappingTable
          account={account}
          engagement={engagement}
          flow={flow}
          mappings={list}
          targetFields={mappings.data.target_fields}
          canWrite={canWrite}
        />
      )}
    </Stack>
  );
}

/** Accept every suggestion at or above a confidence (POST …/mappings/review), and resume the flow
 * (POST …/resume; while some still await review, with `accept_above`: approved at or above the
 * confidence, rejected below). */
function ReviewActions({
  account,
  engagement,
  flow,
  awaiting,
}: {
  account: string;
  engagement: string;
  flow: string;
  awaiting: number;
}) {
  const queries = useQueryClient();
  const navigate = useNavigate();
  const [threshold, setThreshold] = useState<number | string>(0.9);
  const path = { account, engagement, flow_id: flow };
  const acceptAbove = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/mappings/review", {
          params: { path },
          body: { accept_above: Number(threshold) },
        }),
      ),
    onSuccess: (data) => queries.setQueryData(["flow", flow, "mappings"], data),
  });
  const resume = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/resume", {
          params: { path, query: awaiting > 0 ? { accept_above: Number(threshold) } : {} },
        }),
      ),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ["flow", flow] });
      navigate(paths.flow(account, engagement, flow));
    },
  });
  return (
    <Card withBorder component="section" aria-labelledby="review-actions-title">
      <Title order={2} size="h4" id="review-actions-title" mb="xs">
        Decide and go on
      </Title>
      <Group align="flex-end">
        <NumberInput
          label="Confidence at least"
          description="0 to 1"
          min={0}
          max={1}
          step={0.05}
          decimalScale={2}
          value={threshold}
          onChange={setThreshold}
          w={180}
        />
        <Button variant="light" onClick={() => acceptAbove.mutate()} loading={acceptAbove.isPending} disabled={awaiting === 0}>
          Accept all at or above
        </Button>
        <Button onClick={() => resume.mutate()} loading={resume.isPending}>
          Resume the flow
        </Button>
      </Group>
      {awaiting > 0 && (
        <Text size="sm" mt="xs">
          {count(awaiting)} still await review: resuming approves those at or above the confidence and rejects the rest
          (kept as extra columns).
        </Text>
      )}
      {acceptAbove.error && <ProblemAlert error={acceptAbove.error} title="The suggestions were not accepted" />}
      {resume.error && <ProblemAlert error={resume.error} title="The flow was not resumed" />}
    </Card>
  );
}

function MappingTable({
  account,
  engagement,
  flow,
  mappings,
  targetFields,
  canWrite,
}: {
  account: string;
  engagement: string;
  flow: string;
  mappings: Mapping[];
  targetFields: string[];
  canWrite: boolean;
}) {
  const queries = useQueryClient();
  const change = useMutation({
    mutationFn: async ({ mapping, body }: { mapping: Mapping; body: Change }) =>
      unwrap(
        await api.PATCH(
          "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/mappings/{mapping_id}",
          { params: { path: { account, engagement, flow_id: flow, mapping_id: mapping.id } }, body },
        ),
      ),
    onSuccess: (after) =>
      queries.setQueryData<Schemas["MappingList"]>(["flow", flow, "mappings"], (list) =>
        list ? { ...list, mappings: list.mappings.map((m) => (m.id === after.id ? after : m)) } : list,
      ),
  });
  const busy = change.isPending ? change.variables?.mapping.id : null;
  return (
    <Stack gap="xs">
      {change.error && (
        <ProblemAlert error={change.error} title={`The mapping of "${change.variables?.mapping.source_field ?? ""}" did not change`} />
      )}
      <Table.ScrollContainer minWidth={900}>
        <Table striped withTableBorder verticalSpacing="xs" aria-label="Field mappings">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Column</Table.Th>
              <Table.Th>Sample values</Table.Th>
              <Table.Th>Asset field</Table.Th>
              <Table.Th>Confidence</Table.Th>
              <Table.Th>Why</Table.Th>
              <Table.Th>Review</Table.Th>
              {canWrite && <Table.Th>Decide</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {mappings.map((mapping) => (
              <Table.Tr key={mapping.id} data-testid={`mapping-${mapping.source_field}`}>
                <Table.Th scope="row">{mapping.source_field}</Table.Th>
                <Table.Td>
                  <Text size="xs" lineClamp={3}>
                    {samplesOf(mapping).join(" · ") || "—"}
                  </Text>
                </Table.Td>
                <Table.Td>
                  {canWrite ? (
                    <TargetSelect
                      mapping={mapping}
                      targetFields={targetFields}
                      disabled={busy === mapping.id}
                      onPick={(target_field) => change.mutate({ mapping, body: { action: "map", target_field } })}
                    />
                  ) : (
                    <Text size="sm">{mapping.target_field ?? "unmapped"}</Text>
                  )}
                </Table.Td>
                <Table.Td>{percent(mapping.confidence, true)}</Table.Td>
                <Table.Td>
                  <Text size="xs">{mapping.explanation ?? "—"}</Text>
                  <Badge variant="outline" color="gray" size="xs" mt={4}>
                    {mapping.match_type}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <StatusBadge status={mapping.status} />
                  {mapping.decided_by && (
                    <Text size="xs" c="dimmed" mt={4} data-testid="decided-by">
                      {mapping.decided_by === "threshold" ? "by the confidence threshold" : "by a reviewer"}
                    </Text>
                  )}
                </Table.Td>
                {canWrite && (
                  <Table.Td>
                    <Stack gap={4} align="stretch">
                      <Button
                        size="compact-xs"
                        variant={mapping.status === "approved" ? "filled" : "light"}
                        color="green"
                        aria-label={`Approve ${mapping.source_field}`}
                        disabled={busy === mapping.id || mapping.status === "approved"}
                        onClick={() => change.mutate({ mapping, body: { action: "approve" } })}
                      >
                        Approve
                      </Button>
                      <Button
                        size="compact-xs"
                        variant={mapping.status === "rejected" ? "filled" : "subtle"}
                        color="red"
                        aria-label={`Reject ${mapping.source_field}`}
                        disabled={busy === mapping.id || mapping.status === "rejected"}
                        onClick={() => change.mutate({ mapping, body: { action: "reject" } })}
                      >
                        Reject
                      </Button>
                    </Stack>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

/** The field a column maps to: the engine's alternatives first (with their confidence), then
 * every asset field the API accepts, or unmapped (kept as an extra column). */
function TargetSelect({
  mapping,
  targetFields,
  disabled,
  onPick,
}: {
  mapping: Mapping;
  targetFields: string[];
  disabled: boolean;
  onPick: (target: string | null) => void;
}) {
  const alternatives = alternativesOf(mapping).filter((a) => a.target_field !== mapping.target_field);
  const offered = new Set([mapping.target_field, ...alternatives.map((a) => a.target_field)]);
  const data = [
    {
      group: "Suggested",
      items: [
        ...(mapping.target_field ? [{ value: mapping.target_field, label: mapping.target_field }] : []),
        ...alternatives.map((a) => ({
          value: a.target_field,
          label: a.confidence === undefined ? a.target_field : `${a.target_field} (${percent(a.confidence, true)})`,
        })),
        { value: UNMAPPED, label: "unmapped (keep as an extra column)" },
      ],
    },
    { group: "Every asset field", items: targetFields.filter((f) => !offered.has(f)) },
  ];
  return (
    <Select
      aria-label={`Field for ${mapping.source_field}`}
      data={data}
      value={mapping.target_field ?? UNMAPPED}
      onChange={(value) => {
        if (value === null) return;
        const target = value === UNMAPPED ? null : value;
        if (target !== mapping.target_field || mapping.status !== "approved") onPick(target);
      }}
      searchable
      allowDeselect={false}
      disabled={disabled}
      size="xs"
      w={190}
      comboboxProps={{ withinPortal: true }}
    />
  );
}
