import { useState } from "react";
import { Button, Group, Modal, PasswordInput, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/problem";
import { ProblemAlert } from "../../components/ProblemAlert";
import { Empty, Failed, Loading } from "../../components/States";

type Role = Schemas["Role"];
type Member = Schemas["MemberView"];
const ROLES: { value: Role; label: string }[] = [
  { value: "admin", label: "admin" },
  { value: "analyst", label: "analyst" },
  { value: "viewer", label: "viewer" },
];

function displayName(member: Member): string {
  const name = [member.user.first_name, member.user.last_name].filter(Boolean).join(" ");
  return name || member.user.email;
}

/** The account's members and their roles; its admins add, re-role and remove them (the API keeps
 * the last admin). */
export function Members({ account, canManage }: { account: string; canManage: boolean }) {
  const queries = useQueryClient();
  const key = ["members", account];
  const members = useQuery({
    queryKey: key,
    queryFn: async () =>
      unwrap(await api.GET("/api/v1/client-accounts/{account}/members", { params: { path: { account } } })),
  });
  const changeRole = useMutation({
    mutationFn: async ({ user, role }: { user: string; role: Role }) =>
      unwrap(
        await api.PATCH("/api/v1/client-accounts/{account}/members/{user}", {
          params: { path: { account, user } },
          body: { role },
        }),
      ),
    onSettled: () => queries.invalidateQueries({ queryKey: key }),
  });
  const [removing, setRemoving] = useState<Member | null>(null);
  const remove = useMutation({
    mutationFn: async (user: string) =>
      unwrap(
        await api.DELETE("/api/v1/client-accounts/{account}/members/{user}", { params: { path: { account, user } } }),
      ),
    onSuccess: () => setRemoving(null),
    onSettled: () => queries.invalidateQueries({ queryKey: key }),
  });

  return (
    <Stack component="section" aria-labelledby="members-title">
      <Title order={2} size="h3" id="members-title">
        Members
      </Title>
      {changeRole.error && <ProblemAlert error={changeRole.error} title="The role was not changed" />}
      {members.isPending ? (
        <Loading what="the members" />
      ) : members.error ? (
        <Failed error={members.error} what="the members" />
      ) : members.data.length === 0 ? (
        <Empty>No members.</Empty>
      ) : (
        <Table striped withTableBorder>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>E-mail</Table.Th>
              <Table.Th>Role</Table.Th>
              <Table.Th>Member since</Table.Th>
              {canManage && <Table.Th>Actions</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {members.data.map((member) => (
              <Table.Tr key={member.user.id}>
                <Table.Td>{displayName(member)}</Table.Td>
                <Table.Td>{member.user.email}</Table.Td>
                <Table.Td>
                  {canManage ? (
                    <Select
                      size="xs"
                      w={130}
                      aria-label={`Role of ${member.user.email}`}
                      data={ROLES}
                      value={member.role}
                      allowDeselect={false}
                      disabled={changeRole.isPending}
                      onChange={(role) =>
                        role && role !== member.role && changeRole.mutate({ user: member.user.id, role: role as Role })
                      }
                    />
                  ) : (
                    member.role
                  )}
                </Table.Td>
                <Table.Td>{new Date(member.joined_at).toLocaleDateString()}</Table.Td>
                {canManage && (
                  <Table.Td>
                    <Button
                      size="xs"
                      variant="subtle"
                      color="red"
                      aria-label={`Remove ${member.user.email}`}
                      onClick={() => {
                        remove.reset();
                        setRemoving(member);
                      }}
                    >
                      Remove
                    </Button>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {canManage && <AddMember account={account} />}
      <Modal opened={removing !== null} onClose={() => setRemoving(null)} title="Remove this member?">
        {removing && (
          <Stack>
            <Text>
              {removing.user.email} loses access to this client account. Their user and their other memberships stay.
            </Text>
            {remove.error && <ProblemAlert error={remove.error} title="Not removed" />}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setRemoving(null)}>
                Keep
              </Button>
              <Button color="red" loading={remove.isPending} onClick={() => remove.mutate(removing.user.id)}>
                Remove
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}

/** Adds a member by e-mail; a user is created when none has the address (a password only then). */
function AddMember({ account }: { account: string }) {
  const queries = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("analyst");
  const [password, setPassword] = useState("");
  const [firstName, setFirstName] = useState("");
  const [lastName, setLastName] = useState("");
  const add = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/client-accounts/{account}/members", {
          params: { path: { account } },
          body: {
            email,
            role,
            password: password || null,
            first_name: firstName || null,
            last_name: lastName || null,
          },
        }),
      ),
    onSuccess: () => {
      setEmail("");
      setPassword("");
      setFirstName("");
      setLastName("");
      return queries.invalidateQueries({ queryKey: ["members", account] });
    },
  });
  return (
    <form
      aria-labelledby="add-member-title"
      onSubmit={(event) => {
        event.preventDefault();
        add.mutate();
      }}
    >
      <Stack gap="xs">
        <Title order={3} size="h4" id="add-member-title">
          Add a member
        </Title>
        {add.error && <ProblemAlert error={add.error} title="Not added" />}
        {add.data && (
          <Text role="status" size="sm">
            {add.data.user.email} is now {add.data.role}
            {add.data.user_created ? " (a new user)" : ""}.
          </Text>
        )}
        <Group align="flex-end">
          <TextInput label="E-mail" type="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          <Select label="Role" data={ROLES} value={role} allowDeselect={false} onChange={(v) => v && setRole(v as Role)} w={130} />
          <TextInput label="First name" value={firstName} onChange={(e) => setFirstName(e.currentTarget.value)} />
          <TextInput label="Last name" value={lastName} onChange={(e) => setLastName(e.currentTarget.value)} />
          <PasswordInput
            label="Password (new users only)"
            description="At least 12 characters"
            autoComplete="new-password"
            visibilityToggleButtonProps={{ "aria-label": "Show or hide the new member's password" }}
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
          />
          <Button type="submit" loading={add.isPending}>
            Add member
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
