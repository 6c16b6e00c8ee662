import { Center, Loader, Stack, Text, Title } from "@mantine/core";
import { ApiProblem } from "../api/problem";
import { ProblemAlert } from "./ProblemAlert";

/** Loading, error ("not found" for a 404: another tenant's id looks exactly like a missing one)
 * and empty states, the same on every page. */
export function Loading({ what }: { what: string }) {
  return (
    <Center p="xl" role="status" aria-live="polite">
      <Loader size="sm" mr="sm" aria-hidden />
      <Text>Loading {what}…</Text>
    </Center>
  );
}

export function NotFound({ what }: { what?: string }) {
  return (
    <Stack p="xl" align="center">
      <Title order={1}>Not found</Title>
      <Text>{what ? `This ${what} does not exist, or you have no access to it.` : "There is no page here."}</Text>
    </Stack>
  );
}

export function Failed({ error, what }: { error: unknown; what: string }) {
  if (error instanceof ApiProblem && error.isNotFound) {
    return <NotFound what={what} />;
  }
  return <ProblemAlert error={error} title={`Could not load ${what}`} />;
}

export function Empty({ children }: { children: React.ReactNode }) {
  return (
    <Center p="xl">
      <Text c="dimmed">{children}</Text>
    </Center>
  );
}
