import { Anchor, Badge, Group, List, Stack, Table, Text } from "@mantine/core";
import { Link, Navigate, Outlet, useParams } from "react-router-dom";
import { useEngagement, useEngagements } from "../api/queries";
import { PageTitle } from "../components/Layout";
import { Empty, Failed, Loading, NotFound } from "../components/States";
import { paths } from "../lib/paths";
import { useMe, useRole } from "../session";

/** Where a signed-in user lands: their only client account, or the list of them. */
export function Home() {
  const me = useMe();
  const only = me.memberships.length === 1 ? me.memberships[0] : undefined;
  if (only) return <Navigate to={paths.account(only.client_account_slug)} replace />;
  return (
    <Stack>
      <PageTitle>Client accounts</PageTitle>
      {me.memberships.length === 0 ? (
        <Empty>You are not a member of any client account yet; ask an administrator.</Empty>
      ) : (
        <List>
          {me.memberships.map((m) => (
            <List.Item key={m.client_account_id}>
              <Anchor component={Link} to={paths.account(m.client_account_slug)}>
                {m.client_account_slug}
              </Anchor>{" "}
              <Text span c="dimmed" size="sm">
                ({m.role})
              </Text>
            </List.Item>
          ))}
        </List>
      )}
    </Stack>
  );
}

/** A client account the caller is a member of: its engagements (the only one opens directly).
 * Any other account is "not found", as the API says. */
export function AccountHome() {
  const { account = "" } = useParams();
  const role = useRole(account);
  const engagements = useEngagements(role ? account : undefined);
  if (!role) return <NotFound what="client account" />;
  if (engagements.isPending) return <Loading what="the engagements" />;
  if (engagements.error) return <Failed error={engagements.error} what="the engagements" />;
  const only = engagements.data.length === 1 ? engagements.data[0] : undefined;
  if (only) return <Navigate to={paths.engagement(account, only.slug)} replace />;
  return (
    <Stack>
      <PageTitle>{account}</PageTitle>
      <Text>Your role here: {role}.</Text>
      {engagements.data.length === 0 ? (
        <Empty>This client account has no engagement yet.</Empty>
      ) : (
        <Table striped withTableBorder>
          <Table.Caption>Engagements</Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Engagement</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Started</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {engagements.data.map((e) => (
              <Table.Tr key={e.id}>
                <Table.Td>
                  <Anchor component={Link} to={paths.engagement(account, e.slug)}>
                    {e.name}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <Group gap="xs">
                    <Badge variant="light">{e.status}</Badge>
                  </Group>
                </Table.Td>
                <Table.Td>{new Date(e.created_at).toLocaleDateString()}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

/** Every page under /a/{account}/e/{engagement}: the engagement must exist and be the caller's
 * (the API's 404 for another tenant's engagement becomes "not found" here, before any page loads). */
export function EngagementScope() {
  const { account = "", engagement = "" } = useParams();
  const role = useRole(account);
  const found = useEngagement(account, engagement, Boolean(role));
  if (!role) return <NotFound what="client account" />;
  if (found.isPending) return <Loading what="the engagement" />;
  if (found.error) return <Failed error={found.error} what="engagement" />;
  return <Outlet />;
}
