import { Alert, Text } from "@mantine/core";
import { ApiProblem } from "../api/problem";

/** An API error in words: what went wrong, the field at fault, and the request id to quote. */
export function ProblemAlert({ error, title }: { error: unknown; title?: string }) {
  const problem = error instanceof ApiProblem ? error : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <Alert color="red" title={title ?? "Something went wrong"} role="alert">
      <Text size="sm">{message}</Text>
      {problem?.field && (
        <Text size="sm">
          Field: <strong>{problem.field}</strong>
        </Text>
      )}
      {problem?.requestId && (
        <Text size="xs" c="dimmed">
          Request id {problem.requestId}
        </Text>
      )}
    </Alert>
  );
}
