import { useRef, useState } from "react";
import { Anchor, Button, Group, NumberInput, Progress, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { Dropzone } from "@mantine/dropzone";
import { useQuery } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/problem";
import { uploadForm, type UploadProgress } from "../../api/upload";
import { PageTitle } from "../../components/Layout";
import { ProblemAlert } from "../../components/ProblemAlert";
import { Empty, Failed, Loading } from "../../components/States";
import { StatusBadge } from "../../components/StatusBadge";
import { awaitsReview, bytes, count, dateTime } from "../../lib/format";
import { paths } from "../../lib/paths";
import { numberParam, useQueryState } from "../../lib/urlState";
import { useCanWrite } from "../../session";

/** What the server reads: CSV and workbooks (the extension tells which). */
const ACCEPTED = [".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"];
const WORKBOOK = /\.(xlsx|xlsm|xls|xlsb|ods)$/i;

/** /…/import: drop an inventory file (CSV or workbook), watch it upload, then follow its flow. */
export function ImportPage() {
  const { account = "", engagement = "" } = useParams();
  const canWrite = useCanWrite(account);
  return (
    <Stack>
      <PageTitle>Import an inventory</PageTitle>
      {canWrite ? (
        <Upload account={account} engagement={engagement} />
      ) : (
        <Text c="dimmed">Your role can read this engagement's imports but not start one.</Text>
      )}
      <Imports account={account} engagement={engagement} />
    </Stack>
  );
}

function Upload({ account, engagement }: { account: string; engagement: string }) {
  const navigate = useNavigate();
  const [file, setFile] = useState<File | null>(null);
  const [sheet, setSheet] = useState("");
  const [acceptAbove, setAcceptAbove] = useState<number | string>("");
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [rejected, setRejected] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  const openPicker = useRef<() => void>(null);

  async function send() {
    if (!file) return;
    const form = new FormData();
    form.append("file", file, file.name);
    if (sheet.trim()) form.append("sheet", sheet.trim());
    if (acceptAbove !== "") form.append("accept_above", String(acceptAbove));
    setError(null);
    setProgress({ loaded: 0, total: file.size });
    abort.current = new AbortController();
    try {
      const started = await uploadForm<Schemas["ImportStarted"]>(
        `/api/v1/client-accounts/${encodeURIComponent(account)}/engagements/${encodeURIComponent(engagement)}/imports`,
        form,
        setProgress,
        abort.current.signal,
      );
      navigate(paths.flow(account, engagement, started.discovery_flow_id));
    } catch (failure) {
      setError(failure);
      setProgress(null);
    }
  }

  const uploading = progress !== null;
  const share = progress && progress.total > 0 ? (progress.loaded / progress.total) * 100 : 0;
  return (
    <Stack>
      <Dropzone
        onDrop={(files) => {
          setFile(files[0] ?? null);
          setRejected(null);
          setError(null);
        }}
        onReject={(rejections) => setRejected(rejections[0]?.file.name ?? "that file")}
        multiple={false}
        accept={{ "application/octet-stream": ACCEPTED, "text/csv": [".csv"] }}
        disabled={uploading}
        openRef={openPicker}
        activateOnClick={false}
        aria-label="Drop an inventory file here"
        inputProps={{ "aria-label": "Inventory file" }}
        data-testid="dropzone"
      >
        <Stack align="center" gap={4} p="lg" mih={120} justify="center" style={{ pointerEvents: "none" }}>
          <Text size="lg">Drop a CSV or Excel inventory export here</Text>
          <Text size="sm" c="dimmed">
            RVTools, ServiceNow CMDB and other exports: {ACCEPTED.join(" ")}
          </Text>
        </Stack>
      </Dropzone>
      <Group>
        <Button variant="default" onClick={() => openPicker.current?.()} disabled={uploading}>
          Choose a file…
        </Button>
        {file && (
          <Text>
            <strong>{file.name}</strong> ({bytes(file.size)})
          </Text>
        )}
      </Group>
      {rejected && (
        <ProblemAlert error={new Error(`${rejected} is not a CSV or workbook (${ACCEPTED.join(", ")})`)} title="Not an inventory file" />
      )}
      {file && (
        <Group align="flex-end">
          {WORKBOOK.test(file.name) && (
            <TextInput
              label="Sheet"
              description="Default: the first"
              value={sheet}
              onChange={(e) => setSheet(e.currentTarget.value)}
              disabled={uploading}
            />
          )}
          <NumberInput
            label="Accept mappings at or above"
            description="A confidence from 0 to 1; empty: review every mapping"
            min={0}
            max={1}
            step={0.05}
            decimalScale={2}
            value={acceptAbove}
            onChange={setAcceptAbove}
            disabled={uploading}
            w={260}
          />
          <Button onClick={send} loading={uploading}>
            Upload and start discovery
          </Button>
        </Group>
      )}
      {progress && (
        <Stack gap={4}>
          <Progress value={share} aria-label="Upload progress" striped animated size="lg" />
          <Group justify="space-between">
            <Text size="sm" role="status">
              Uploading: {bytes(progress.loaded)} of {bytes(progress.total)} ({Math.round(share)} %)
            </Text>
            <Button size="xs" variant="subtle" onClick={() => abort.current?.abort()}>
              Cancel upload
            </Button>
          </Group>
        </Stack>
      )}
      {error !== null && <ProblemAlert error={error} title="The upload was refused" />}
    </Stack>
  );
}

const PAGE = 20;

/** The engagement's imports, newest first, paged by offset (in the URL). */
function Imports({ account, engagement }: { account: string; engagement: string }) {
  const [params, update] = useQueryState();
  const offset = numberParam(params, "offset", 0);
  const imports = useQuery({
    queryKey: ["imports", account, engagement, offset],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/imports", {
          params: { path: { account, engagement }, query: { limit: PAGE, offset } },
        }),
      ),
  });
  // The flows reading them (newest first, like the imports): their state, and which wait for a
  // review of their field mappings.
  const flows = useQuery({
    queryKey: ["flows", account, engagement, "of-imports", offset],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/flows", {
          params: { path: { account, engagement }, query: { limit: 100, offset } },
        }),
      ),
  });
  const flowOf = new Map((flows.data?.flows ?? []).map((f) => [f.id, f]));
  return (
    <Stack component="section" aria-labelledby="imports-title">
      <Title order={2} size="h3" id="imports-title">
        Imports
      </Title>
      {imports.isPending ? (
        <Loading what="the imports" />
      ) : imports.error ? (
        <Failed error={imports.error} what="the imports" />
      ) : imports.data.imports.length === 0 ? (
        <Empty>No import yet.</Empty>
      ) : (
        <>
          <Table striped withTableBorder>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>File</Table.Th>
                <Table.Th>Size</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Flow</Table.Th>
                <Table.Th>Records</Table.Th>
                <Table.Th>Failed</Table.Th>
                <Table.Th>Uploaded</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {imports.data.imports.map((item) => (
                <Table.Tr key={item.id}>
                  <Table.Td>
                    {item.discovery_flow_id ? (
                      <Anchor component={Link} to={paths.flow(account, engagement, item.discovery_flow_id)}>
                        {item.filename}
                      </Anchor>
                    ) : (
                      item.filename
                    )}
                  </Table.Td>
                  <Table.Td>{bytes(item.file_size)}</Table.Td>
                  <Table.Td>
                    <StatusBadge status={item.status} />
                  </Table.Td>
                  <Table.Td>
                    <FlowState account={account} engagement={engagement} flow={item.discovery_flow_id ? flowOf.get(item.discovery_flow_id) : undefined} filename={item.filename} />
                  </Table.Td>
                  <Table.Td>{count(item.total_records)}</Table.Td>
                  <Table.Td>{count(item.failed_records)}</Table.Td>
                  <Table.Td>{dateTime(item.created_at)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Group>
            <Button variant="default" size="xs" disabled={offset === 0} onClick={() => update({ offset: Math.max(0, offset - PAGE) || null })}>
              Newer
            </Button>
            <Button
              variant="default"
              size="xs"
              disabled={imports.data.next_offset == null}
              onClick={() => update({ offset: imports.data.next_offset })}
            >
              Older
            </Button>
          </Group>
        </>
      )}
    </Stack>
  );
}

/** An import's flow: its state, and a link to the mapping review when it waits for one. */
function FlowState({
  account,
  engagement,
  flow,
  filename,
}: {
  account: string;
  engagement: string;
  flow: Schemas["FlowView"] | undefined;
  filename: string;
}) {
  if (!flow) return <Text size="sm">—</Text>;
  return (
    <Group gap="xs">
      <StatusBadge status={flow.status} />
      {awaitsReview(flow) && (
        <Anchor component={Link} to={paths.mappings(account, engagement, flow.id)} size="sm" aria-label={`Review the field mappings of ${filename}`}>
          Review mappings
        </Anchor>
      )}
    </Group>
  );
}
