import { Anchor, List, Stack, Text } from "@mantine/core";
import { Link, Navigate, useParams } from "react-router-dom";
import { PageTitle } from "../components/Layout";
import { Empty, NotFound } from "../components/States";
import { useMe, useRole } from "../session";

/** Where a signed-in user lands: their only client account, or the list of them. */
export function Home() {
  const me = useMe();
  const only = me.memberships.length === 1 ? me.memberships[0] : undefined;
  if (only) return <Navigate to={`/a/${only.client_account_slug}`} replace />;
  return (
    <Stack>
      <PageTitle>Client accounts</PageTitle>
      {me.memberships.length === 0 ? (
        <Empty>You are not a member of any client account yet; ask an administrator.</Empty>
      ) : (
        <List>
          {me.memberships.map((m) => (
            <List.Item key={m.client_account_id}>
              <Anchor component={Link} to={`/a/${m.client_account_slug}`}>
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

/** A client account the caller is a member of (any other is "not found", as the API says). */
export function AccountHome() {
  const { account = "" } = useParams();
  const role = useRole(account);
  if (!role) return <NotFound what="client account" />;
  return (
    <Stack>
      <PageTitle>{account}</PageTitle>
      <Text>Your role here: {role}.</Text>
    </Stack>
  );
}
