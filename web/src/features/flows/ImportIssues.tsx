import { Button, Group, Stack, Table, Text, Title } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useLocation, useNavigate } from "react-router-dom";
import { api, type Schemas } from "../../api/client";
import type { paths } from "../../api/schema";
import { unwrap } from "../../api/problem";
import { Empty, Failed, Loading } from "../../components/States";
import { StatusBadge } from "../../components/StatusBadge";
import { count } from "../../lib/format";

// The CSV route, checked against the generated paths (a renamed route fails the build).
const CSV = "/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/issues.csv" satisfies keyof paths;
const PAGE = 50;

/** The import's issues: every bad row's errors (rows left out of the inventory) and every warning,
 * in file order, paged by the API's keyset cursor (`issues_after` in the URL; the cursors of the
 * pages before ride in the history entry's state, so "Previous" and the back button step back),
 * and all of them as CSV. */
export function ImportIssues({
  account,
  engagement,
  flow,
  imported,
}: {
  account: string;
  engagement: string;
  flow: string;
  imported: Schemas["ImportSummary"];
}) {
  const location = useLocation();
  const navigate = useNavigate();
  const params = new URLSearchParams(location.search);
  const after = params.get("issues_after") ?? undefined;
  const trail = ((location.state as { issuesTrail?: string[] } | null)?.issuesTrail ?? []) as string[];
  const issues = useQuery({
    queryKey: ["flow", flow, "issues", after],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/flows/{flow_id}/issues", {
          params: { path: { account, engagement, flow_id: flow }, query: { limit: PAGE, after } },
        }),
      ),
    placeholderData: keepPreviousData,
  });

  function go(cursor: string | undefined, nextTrail: string[]) {
    const search = new URLSearchParams(location.search);
    if (cursor) search.set("issues_after", cursor);
    else search.delete("issues_after");
    navigate({ search: search.toString() }, { state: { ...(location.state ?? {}), issuesTrail: nextTrail } });
  }

  const csv = CSV.replace("{account}", encodeURIComponent(account))
    .replace("{engagement}", encodeURIComponent(engagement))
    .replace("{flow_id}", flow);
  const first = trail.length * PAGE + 1;
  const shown = issues.data?.issues.length ?? 0;
  return (
    <Stack component="section" aria-labelledby="issues-title">
      <Group justify="space-between">
        <Title order={2} size="h3" id="issues-title">
          Bad rows and warnings
        </Title>
        <Button component="a" href={csv} download variant="default" size="xs">
          Download all as CSV
        </Button>
      </Group>
      <Text size="sm">
        {count(imported.invalid_records)} invalid rows (left out of the inventory), {count(imported.rows_with_warnings)} valid rows
        with warnings.
      </Text>
      {issues.isPending ? (
        <Loading what="the issues" />
      ) : issues.error ? (
        <Failed error={issues.error} what="the issues" />
      ) : issues.data.issues.length === 0 && !after ? (
        <Empty>Every row was read without an issue.</Empty>
      ) : (
        <>
          <Table striped withTableBorder aria-label="Import issues">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Record</Table.Th>
                <Table.Th>File row</Table.Th>
                <Table.Th>Severity</Table.Th>
                <Table.Th>Column</Table.Th>
                <Table.Th>Value</Table.Th>
                <Table.Th>Issue</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {issues.data.issues.map((issue) => (
                <Table.Tr key={`${issue.row_number}.${issue.issue_index}`}>
                  {/* Row number 0: no record holds it (a row of another sheet, an ESXi host). */}
                  <Table.Td>{issue.row_number === 0 ? "—" : issue.row_number}</Table.Td>
                  <Table.Td>
                    {issue.sheet ? `${issue.sheet} ${issue.file_row ?? ""}`.trim() : (issue.file_row ?? "—")}
                  </Table.Td>
                  <Table.Td>
                    <StatusBadge status={issue.severity} />
                  </Table.Td>
                  <Table.Td>{issue.column ?? "—"}</Table.Td>
                  <Table.Td>
                    <Text size="sm" lineClamp={2} style={{ wordBreak: "break-all" }}>
                      {issue.value ?? "—"}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{issue.reason}</Text>
                    <Text size="xs" c="dimmed">
                      {issue.kind}
                    </Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Group justify="space-between">
            <Text size="sm" role="status">
              {shown > 0 ? `Issues ${count(first)}–${count(first + shown - 1)}` : "No more issues"}
            </Text>
            <Group gap="xs">
              <Button variant="default" size="xs" disabled={!after} onClick={() => go(trail[trail.length - 1] || undefined, trail.slice(0, -1))}>
                Previous issues
              </Button>
              <Button
                variant="default"
                size="xs"
                disabled={!issues.data.next_after}
                onClick={() => issues.data.next_after && go(issues.data.next_after, [...trail, after ?? ""])}
              >
                Next issues
              </Button>
            </Group>
          </Group>
        </>
      )}
    </Stack>
  );
}
