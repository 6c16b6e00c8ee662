import { useState } from "react";
import { Badge, Button, Card, Group, List, Select, Stack, Table, Text, Textarea, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { ProblemAlert } from "../../components/ProblemAlert";
import { Failed, Loading } from "../../components/States";
import { dateTime, percent, words } from "../../lib/format";
import { SIX_R_STRATEGIES } from "./enums";

/** The asset's 6R picture: the strategy in force, the 6R phase's recommendation with its
 * confidence and rationale, the overrides (newest first); analysts override it with a reason. */
export function SixR({ account, engagement, asset, canWrite }: { account: string; engagement: string; asset: string; canWrite: boolean }) {
  const queries = useQueryClient();
  const key = ["asset", account, engagement, asset, "six-r"];
  const path = { account, engagement, asset };
  const sixr = useQuery({
    queryKey: key,
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/assets/{asset}/six-r", { params: { path } })),
  });
  const [strategy, setStrategy] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const override = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/client-accounts/{account}/engagements/{engagement}/assets/{asset}/six-r/override", {
          params: { path },
          body: { strategy: SIX_R_STRATEGIES.find((s) => s === strategy) ?? "rehost", reason },
        }),
      ),
    onSuccess: async (view) => {
      queries.setQueryData(key, view);
      setStrategy(null);
      setReason("");
      await queries.invalidateQueries({ queryKey: ["asset", account, engagement, asset] });
      await queries.invalidateQueries({ queryKey: ["assets", account, engagement] });
    },
  });

  return (
    <Card withBorder component="section" aria-labelledby="sixr-title">
      <Title order={2} size="h4" id="sixr-title" mb="xs">
        6R strategy
      </Title>
      {sixr.isPending ? (
        <Loading what="the 6R recommendation" />
      ) : sixr.error ? (
        <Failed error={sixr.error} what="the 6R recommendation" />
      ) : (
        <Stack gap="sm">
          <Group gap="xs">
            <Text>In force:</Text>
            <Badge variant="light" color="grape" size="lg" data-testid="strategy-in-force">
              {sixr.data.strategy ?? "none"}
            </Badge>
            {sixr.data.overridden && <Badge variant="light" color="orange">overridden</Badge>}
          </Group>
          {sixr.data.recommendation ? (
            <Stack gap={4}>
              <Text size="sm">
                Recommended: <strong>{sixr.data.recommendation.strategy}</strong> (confidence{" "}
                {percent(sixr.data.recommendation.confidence, true)}), {sixr.data.recommendation.analysis_name},{" "}
                {dateTime(sixr.data.recommendation.recommended_at)}
              </Text>
              <Text size="sm" fw={600}>
                Why
              </Text>
              <List size="sm" aria-label="Rationale">
                {sixr.data.recommendation.rationale.map((line) => (
                  <List.Item key={line}>{line}</List.Item>
                ))}
              </List>
            </Stack>
          ) : (
            <Text size="sm" c="dimmed">
              The 6R phase made no recommendation for this asset.
            </Text>
          )}
          {canWrite && (
            <form
              aria-label="Override the 6R strategy"
              onSubmit={(event) => {
                event.preventDefault();
                override.mutate();
              }}
            >
              <Stack gap="xs">
                {override.error && <ProblemAlert error={override.error} title="Not overridden" />}
                <Select
                  label="New strategy"
                  required
                  data={SIX_R_STRATEGIES.map((s) => ({ value: s, label: words(s) }))}
                  value={strategy}
                  onChange={setStrategy}
                />
                <Textarea
                  label="Reason"
                  description="Recorded in the audit trail with your name"
                  required
                  autosize
                  minRows={2}
                  maxLength={2000}
                  value={reason}
                  onChange={(e) => setReason(e.currentTarget.value)}
                />
                <Group justify="flex-end">
                  <Button type="submit" loading={override.isPending} disabled={!strategy}>
                    Override
                  </Button>
                </Group>
              </Stack>
            </form>
          )}
          {sixr.data.overrides.length > 0 && (
            <Table aria-label="Overrides">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>From</Table.Th>
                  <Table.Th>To</Table.Th>
                  <Table.Th>Reason</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {sixr.data.overrides.map((o) => (
                  <Table.Tr key={o.at}>
                    <Table.Td>{dateTime(o.at)}</Table.Td>
                    <Table.Td>{o.previous ?? "—"}</Table.Td>
                    <Table.Td>{o.strategy}</Table.Td>
                    <Table.Td>{o.reason}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Stack>
      )}
    </Card>
  );
}
