import { useState } from "react";
import { Anchor, Badge, Button, Card, Group, NumberInput, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useLocation, useParams } from "react-router-dom";
import { api, type Schemas } from "../../api/client";
import { unwrap } from "../../api/problem";
import { PageTitle } from "../../components/Layout";
import { ProblemAlert } from "../../components/ProblemAlert";
import { Failed, Loading } from "../../components/States";
import { dateTime, words } from "../../lib/format";
import { paths } from "../../lib/paths";
import { useCanWrite } from "../../session";
import { ASSET_COLUMNS, type Asset } from "./columns";
import { CRITICALITIES } from "./enums";
import { Dependencies } from "./Dependencies";
import { SixR } from "./SixR";

type Changes = Schemas["AssetChanges"];

/** The asset's fields in groups, as the detail page shows them (every field of the API's view). */
const GROUPS: { title: string; fields: (keyof Asset)[] }[] = [
  { title: "Identity", fields: ["name", "asset_type", "hostname", "fqdn", "ip_address", "description", "status"] },
  { title: "Platform", fields: ["operating_system", "os_version", "cpu_cores", "memory_gb", "storage_gb", "environment", "location"] },
  {
    title: "Ownership",
    fields: ["application_name", "business_owner", "technical_owner", "department", "business_unit"],
  },
  {
    title: "Migration",
    fields: ["criticality", "business_criticality", "six_r_strategy", "migration_priority", "migration_wave", "completeness_score", "quality_score"],
  },
  { title: "Record", fields: ["id", "engagement_id", "master_flow_id", "discovery_flow_id", "created_at", "updated_at"] },
];

const UNITS: Partial<Record<keyof Asset, string>> = { memory_gb: "GB", storage_gb: "GB", completeness_score: "/ 100", quality_score: "/ 100" };

const LABELS = new Map<string, string>(ASSET_COLUMNS.map((c) => [c.id as string, c.header]));
LABELS.set("id", "Asset id");
LABELS.set("asset_type", "Type");

/** A field's name as the grid's column heads write it ("IP address", not "Ip address"). */
function label(field: string): string {
  return LABELS.get(field) ?? words(field);
}

function show(asset: Asset, field: keyof Asset): string {
  const value = asset[field];
  if (value === null || value === undefined || value === "") return "—";
  if (field === "created_at" || field === "updated_at") return dateTime(String(value));
  if (typeof value === "number") return `${value.toLocaleString()}${UNITS[field] ? ` ${UNITS[field]}` : ""}`;
  return String(value);
}

/** /…/assets/{asset}: every field, the import's extra columns, dependencies and the 6R strategy;
 * analysts edit the editable fields. */
export function AssetDetail() {
  const { account = "", engagement = "", asset: id = "" } = useParams();
  const location = useLocation();
  const canWrite = useCanWrite(account);
  const [editing, setEditing] = useState(false);
  const asset = useQuery({
    queryKey: ["asset", account, engagement, id],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/assets/{asset}", {
          params: { path: { account, engagement, asset: id } },
        }),
      ),
  });
  if (asset.isPending) return <Loading what="the asset" />;
  if (asset.error) return <Failed error={asset.error} what="asset" />;
  const data = asset.data;
  // Back to the list as it was (its filters, sort and page), when the reader came from it.
  const from = (location.state as { from?: string } | null)?.from;
  const extras = Object.entries(data.custom_attributes as Record<string, unknown>);
  return (
    <Stack>
      <Anchor component={Link} to={from ?? paths.assets(account, engagement)} size="sm">
        ← Assets
      </Anchor>
      <Group justify="space-between" align="flex-start">
        <div>
          <PageTitle>{data.name}</PageTitle>
          <Group gap="xs">
            <Badge variant="light">{words(data.asset_type)}</Badge>
            {data.environment && <Badge variant="light" color="gray">{data.environment}</Badge>}
            <Badge variant="light" color="grape">
              6R: {data.six_r_strategy ?? "not assessed"}
            </Badge>
          </Group>
        </div>
        {canWrite && !editing && (
          <Button variant="light" onClick={() => setEditing(true)}>
            Edit fields
          </Button>
        )}
      </Group>
      {editing && <EditAsset asset={data} account={account} engagement={engagement} onDone={() => setEditing(false)} />}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <SixR account={account} engagement={engagement} asset={data.id} canWrite={canWrite} />
        <Dependencies account={account} engagement={engagement} asset={data.id} />
      </SimpleGrid>
      <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
        {GROUPS.map((group) => (
          <Card withBorder key={group.title} component="section" aria-label={group.title}>
            <Title order={2} size="h4" mb="xs">
              {group.title}
            </Title>
            <Table>
              <Table.Tbody>
                {group.fields.map((field) => (
                  <Table.Tr key={field}>
                    <Table.Th scope="row" w="45%">
                      {label(field)}
                    </Table.Th>
                    <Table.Td data-field={field}>{show(data, field)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Card>
        ))}
        <Card withBorder component="section" aria-label="Extra columns from the import">
          <Title order={2} size="h4" mb="xs">
            Extra columns from the import
          </Title>
          {extras.length === 0 ? (
            <Text c="dimmed" size="sm">
              Every column of the file mapped onto a field.
            </Text>
          ) : (
            <Table>
              <Table.Tbody>
                {extras.map(([key, value]) => (
                  <Table.Tr key={key}>
                    <Table.Th scope="row" w="45%">
                      {key}
                    </Table.Th>
                    <Table.Td>{typeof value === "string" ? value : JSON.stringify(value)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Card>
      </SimpleGrid>
    </Stack>
  );
}

const TEXT_FIELDS = [
  "name",
  "description",
  "environment",
  "location",
  "application_name",
  "business_owner",
  "technical_owner",
  "department",
  "business_unit",
] as const satisfies readonly (keyof Changes)[];

/** The editable fields in a form; only those changed are sent (PATCH), all or nothing. */
function EditAsset({ asset, account, engagement, onDone }: { asset: Asset; account: string; engagement: string; onDone: () => void }) {
  const queries = useQueryClient();
  const [changes, setChanges] = useState<Changes>({});
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PATCH("/api/v1/client-accounts/{account}/engagements/{engagement}/assets/{asset}", {
          params: { path: { account, engagement, asset: asset.id } },
          body: changes,
        }),
      ),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ["asset", account, engagement, asset.id] });
      await queries.invalidateQueries({ queryKey: ["assets", account, engagement] });
      onDone();
    },
  });
  const current = <K extends keyof Changes>(field: K) => (field in changes ? changes[field] : asset[field]);
  const set = (patch: Changes) => setChanges((before) => ({ ...before, ...patch }));
  return (
    <Card withBorder component="form" aria-label="Edit the asset" onSubmit={(event: React.FormEvent) => {
      event.preventDefault();
      save.mutate();
    }}>
      <Stack>
        {save.error && <ProblemAlert error={save.error} title="Not saved" />}
        <SimpleGrid cols={{ base: 1, md: 3 }}>
          {TEXT_FIELDS.map((field) => (
            <TextInput
              key={field}
              label={label(field)}
              value={String(current(field) ?? "")}
              onChange={(e) => set({ [field]: e.currentTarget.value === "" && field !== "name" ? null : e.currentTarget.value })}
            />
          ))}
          {(["criticality", "business_criticality"] as const).map((field) => (
            <Select
              key={field}
              label={label(field)}
              clearable
              data={CRITICALITIES.map((l) => ({ value: l, label: words(l) }))}
              value={current(field) ?? null}
              onChange={(value) => set({ [field]: CRITICALITIES.find((l) => l === value) ?? null })}
            />
          ))}
          {(["migration_priority", "migration_wave"] as const).map((field) => (
            <NumberInput
              key={field}
              label={label(field)}
              allowDecimal={false}
              value={current(field) ?? ""}
              onChange={(value) => set({ [field]: value === "" ? null : Number(value) })}
            />
          ))}
        </SimpleGrid>
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending} disabled={Object.keys(changes).length === 0}>
            Save
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}
