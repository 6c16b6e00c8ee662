import { Stack, Table, Text, Title } from "@mantine/core";
import type { Schemas } from "../../api/client";
import { Empty } from "../../components/States";

interface Issue {
  kind?: string;
  severity?: string;
  message?: string;
  column?: string;
}

/** The import's bad rows (left out of the inventory) and its rows with warnings, each issue with
 * its column and message. */
export function ImportIssues({ imported }: { imported: Schemas["ImportSummary"] }) {
  const rows = [
    ...imported.invalid_rows.map((row) => ({ ...row, bad: true })),
    ...imported.warning_rows.map((row) => ({ ...row, bad: false })),
  ];
  return (
    <Stack component="section" aria-labelledby="issues-title">
      <Title order={2} size="h3" id="issues-title">
        Bad rows and warnings
      </Title>
      {rows.length === 0 ? (
        <Empty>Every row was read without an issue.</Empty>
      ) : (
        <Table striped withTableBorder>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Row</Table.Th>
              <Table.Th>Severity</Table.Th>
              <Table.Th>Column</Table.Th>
              <Table.Th>Issue</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.flatMap((row) =>
              (row.issues as Issue[]).map((issue, index) => (
                <Table.Tr key={`${row.row_number}-${row.bad}-${index}`}>
                  <Table.Td>{row.row_number}</Table.Td>
                  <Table.Td>{issue.severity ?? (row.bad ? "error" : "warning")}</Table.Td>
                  <Table.Td>{issue.column ?? "—"}</Table.Td>
                  <Table.Td>
                    <Text size="sm">{issue.message ?? issue.kind}</Text>
                  </Table.Td>
                </Table.Tr>
              )),
            )}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
