import { Divider, Stack, Text } from "@mantine/core";
import { useParams } from "react-router-dom";
import { PageTitle } from "../../components/Layout";
import { NotFound } from "../../components/States";
import { useRole } from "../../session";
import { Members } from "./Members";
import { Tokens } from "./Tokens";

/** /a/{account}/admin: the account's members and roles (changed by its admins only), and the
 * caller's own API tokens. */
export function AdminPage() {
  const { account = "" } = useParams();
  const role = useRole(account);
  if (!role) return <NotFound what="client account" />;
  return (
    <Stack>
      <PageTitle>Members and API tokens</PageTitle>
      {role !== "admin" && <Text c="dimmed">Only the account's admins change members and roles.</Text>}
      <Members account={account} canManage={role === "admin"} />
      <Divider />
      <Tokens />
    </Stack>
  );
}
