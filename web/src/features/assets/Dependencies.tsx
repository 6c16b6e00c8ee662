import { Anchor, Badge, Button, Card, Group, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { Failed, Loading } from "../../components/States";
import { count, words } from "../../lib/format";
import { paths } from "../../lib/paths";

const SHOWN = 200;

/** What this asset depends on and what depends on it, each a link to the other asset. */
export function Dependencies({ account, engagement, asset }: { account: string; engagement: string; asset: string }) {
  const dependencies = useQuery({
    queryKey: ["asset", account, engagement, asset, "dependencies"],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/dependencies", {
          params: { path: { account, engagement }, query: { asset, limit: SHOWN } },
        }),
      ),
  });
  return (
    <Card withBorder component="section" aria-labelledby="dependencies-title">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4" id="dependencies-title">
          Dependencies
        </Title>
        <Button component={Link} to={`${paths.graph(account, engagement)}?asset=${asset}`} size="xs" variant="light">
          Show the graph
        </Button>
      </Group>
      {dependencies.isPending ? (
        <Loading what="the dependencies" />
      ) : dependencies.error ? (
        <Failed error={dependencies.error} what="the dependencies" />
      ) : dependencies.data.dependencies.length === 0 ? (
        <Text c="dimmed" size="sm">
          No dependency is known for this asset.
        </Text>
      ) : (
        <>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Direction</Table.Th>
                <Table.Th>Asset</Table.Th>
                <Table.Th>Kind</Table.Th>
                <Table.Th>Port</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {dependencies.data.dependencies.map((d) => {
                const outgoing = d.asset_id === asset;
                const other = outgoing ? d.depends_on_asset_id : d.asset_id;
                const name = outgoing ? d.depends_on_asset_name : d.asset_name;
                return (
                  <Table.Tr key={d.id}>
                    <Table.Td>
                      <Badge variant="light" color={outgoing ? "blue" : "teal"}>
                        {outgoing ? "depends on" : "used by"}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Anchor component={Link} to={paths.asset(account, engagement, other)}>
                        {name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{words(d.dependency_type)}</Table.Td>
                    <Table.Td>{d.port ?? "—"}</Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
          {dependencies.data.total > SHOWN && (
            <Text size="sm" c="dimmed">
              The first {SHOWN} of {count(dependencies.data.total)}; the graph shows them all.
            </Text>
          )}
        </>
      )}
    </Card>
  );
}
