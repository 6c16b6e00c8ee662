import { useState } from "react";
import { Alert, Badge, Button, Code, CopyButton, Group, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/problem";
import { ProblemAlert } from "../../components/ProblemAlert";
import { Empty, Failed, Loading } from "../../components/States";

const when = (value: string | null | undefined) => (value ? new Date(value).toLocaleString() : "—");

/** The caller's API tokens (`Authorization: Bearer mdz_…`): issue one (its secret is shown this
 * once: the server keeps only a hash), list them, revoke one. */
export function Tokens() {
  const queries = useQueryClient();
  const key = ["me", "tokens"];
  const tokens = useQuery({ queryKey: key, queryFn: async () => unwrap(await api.GET("/api/v1/me/tokens")) });
  const [name, setName] = useState("");
  const [expires, setExpires] = useState("");
  const [issued, setIssued] = useState<Schemas["IssuedToken"] | null>(null);
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/me/tokens", {
          body: { name, expires_at: expires ? new Date(`${expires}T23:59:59`).toISOString() : null },
        }),
      ),
    onSuccess: (token) => {
      setIssued(token);
      setName("");
      setExpires("");
      return queries.invalidateQueries({ queryKey: key });
    },
  });
  const revoke = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.DELETE("/api/v1/me/tokens/{id}", { params: { path: { id } } })),
    onSettled: () => queries.invalidateQueries({ queryKey: key }),
  });

  return (
    <Stack component="section" aria-labelledby="tokens-title">
      <Title order={2} size="h3" id="tokens-title">
        Your API tokens
      </Title>
      <Text size="sm" c="dimmed">
        For scripts: send one as <Code>Authorization: Bearer mdz_…</Code>. A token acts with your roles.
      </Text>
      {issued && (
        <Alert color="green" title={`Token "${issued.api_token.name}" issued`} role="status">
          <Stack gap="xs">
            <Text size="sm">Copy it now: it is shown this once and cannot be read again.</Text>
            <Group>
              <Code data-testid="issued-token">{issued.token}</Code>
              <CopyButton value={issued.token}>
                {({ copied, copy }) => (
                  <Button size="xs" variant="light" onClick={copy}>
                    {copied ? "Copied" : "Copy token"}
                  </Button>
                )}
              </CopyButton>
              <Button size="xs" variant="subtle" onClick={() => setIssued(null)}>
                Done
              </Button>
            </Group>
          </Stack>
        </Alert>
      )}
      <form
        aria-label="Issue a token"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate();
        }}
      >
        <Stack gap="xs">
          {create.error && <ProblemAlert error={create.error} title="No token issued" />}
          <Group align="flex-end">
            <TextInput label="Token name" required maxLength={100} value={name} onChange={(e) => setName(e.currentTarget.value)} />
            <TextInput
              label="Expires on (optional)"
              type="date"
              value={expires}
              onChange={(e) => setExpires(e.currentTarget.value)}
            />
            <Button type="submit" loading={create.isPending}>
              Issue token
            </Button>
          </Group>
        </Stack>
      </form>
      {revoke.error && <ProblemAlert error={revoke.error} title="Not revoked" />}
      {tokens.isPending ? (
        <Loading what="your tokens" />
      ) : tokens.error ? (
        <Failed error={tokens.error} what="your tokens" />
      ) : tokens.data.length === 0 ? (
        <Empty>You have no API token.</Empty>
      ) : (
        <Table striped withTableBorder>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Prefix</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>Created</Table.Th>
              <Table.Th>Expires</Table.Th>
              <Table.Th>Last used</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {tokens.data.map((token) => (
              <Table.Tr key={token.id}>
                <Table.Td>{token.name}</Table.Td>
                <Table.Td>
                  <Code>{token.prefix}</Code>
                </Table.Td>
                <Table.Td>
                  <Badge variant="light" color={token.state === "active" ? "green" : "gray"}>
                    {token.state}
                  </Badge>
                </Table.Td>
                <Table.Td>{when(token.created_at)}</Table.Td>
                <Table.Td>{when(token.expires_at)}</Table.Td>
                <Table.Td>{when(token.last_used_at)}</Table.Td>
                <Table.Td>
                  {token.state === "active" && (
                    <Button
                      size="xs"
                      variant="subtle"
                      color="red"
                      aria-label={`Revoke ${token.name}`}
                      loading={revoke.isPending && revoke.variables === token.id}
                      onClick={() => revoke.mutate(token.id)}
                    >
                      Revoke
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
