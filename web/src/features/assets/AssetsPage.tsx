import { useEffect, useMemo, useState } from "react";
import {
  Anchor,
  Button,
  Checkbox,
  Group,
  Popover,
  ScrollArea,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  UnstyledButton,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { flexRender, getCoreRowModel, useReactTable, type ColumnDef } from "@tanstack/react-table";
import { Link, useLocation, useNavigate, useParams } from "react-router-dom";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { PageTitle } from "../../components/Layout";
import { Empty, Failed, Loading } from "../../components/States";
import { count, words } from "../../lib/format";
import { paths } from "../../lib/paths";
import { useQueryState } from "../../lib/urlState";
import { useCanWrite } from "../../session";
import { ASSET_COLUMNS, INITIAL_COLUMNS, cellText, type Asset, type AssetListQuery, type AssetSort } from "./columns";
import { ASSET_TYPES, CRITICALITIES, SIX_R_STRATEGIES } from "./enums";
import { BulkEdit } from "./BulkEdit";
import { ExportButtons } from "./ExportButtons";

/** The filters the API applies, as query-string keys (the same names as the API's). */
export const FILTER_KEYS = [
  "asset_type",
  "environment",
  "six_r_strategy",
  "criticality",
  "business_criticality",
  "operating_system",
  "discovery_flow_id",
  "search",
] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type Filter = Pick<AssetListQuery, FilterKey>;

const PAGE_SIZES = ["25", "50", "100", "250"];

function oneOf<T extends string>(values: readonly T[], value: string | null): T | undefined {
  return values.find((v) => v === value);
}

/** The filters in the URL, without the empty ones; a value the API does not know is dropped. */
export function filterOf(params: URLSearchParams): Filter {
  const filter: Filter = {};
  const asset_type = oneOf(ASSET_TYPES, params.get("asset_type"));
  const six_r_strategy = oneOf(SIX_R_STRATEGIES, params.get("six_r_strategy"));
  const criticality = oneOf(CRITICALITIES, params.get("criticality"));
  const business_criticality = oneOf(CRITICALITIES, params.get("business_criticality"));
  if (asset_type) filter.asset_type = asset_type;
  if (six_r_strategy) filter.six_r_strategy = six_r_strategy;
  if (criticality) filter.criticality = criticality;
  if (business_criticality) filter.business_criticality = business_criticality;
  for (const key of ["environment", "operating_system", "discovery_flow_id", "search"] as const) {
    const value = params.get(key);
    if (value) filter[key] = value;
  }
  return filter;
}

const SORTS = ASSET_COLUMNS.flatMap((c) => (c.sort ? [c.sort] : []));

/** /…/assets: the inventory. Filters, sort, page size, page position and the chosen columns are
 * in the query string; the server filters, sorts and pages (keyset cursor), so it stays fast at
 * 100,000 assets. The cursors of the pages before this one ride in the history entry's state, so
 * "Previous" and the back button both step back. */
export function AssetsPage() {
  const { account = "", engagement = "" } = useParams();
  const canWrite = useCanWrite(account);
  const [params, update] = useQueryState();
  const navigate = useNavigate();
  const location = useLocation();
  const filter = filterOf(params);
  const sort: AssetSort = oneOf(SORTS, params.get("sort")) ?? "name";
  const order = params.get("order") === "desc" ? "desc" : "asc";
  const cursor = params.get("cursor") ?? undefined;
  const limit = Number(params.get("limit") ?? "50") || 50;
  const visible = (params.get("cols") ?? INITIAL_COLUMNS.join(",")).split(",").filter(Boolean);
  const here = location.pathname + location.search;
  const trail = ((location.state as { trail?: string[] } | null)?.trail ?? []) as string[];

  const assets = useQuery({
    queryKey: ["assets", account, engagement, filter, sort, order, cursor, limit],
    placeholderData: keepPreviousData,
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/assets", {
          params: {
            path: { account, engagement },
            query: { ...filter, sort, order, cursor, limit },
          },
        }),
      ),
  });

  /** A new filter or sort starts from the first page. */
  const refilter = (patch: Record<string, string | null>, replace = false) => update({ ...patch, cursor: null }, { replace });

  const columns = useMemo<ColumnDef<Asset>[]>(
    () =>
      ASSET_COLUMNS.map((column) => ({
        id: column.id as string,
        header: column.header,
        enableSorting: Boolean(column.sort),
        cell: ({ row }) =>
          column.cell
            ? column.cell(row.original, (asset, text) => (
                // The list's URL goes along, so the detail page's "back" returns to this page.
                <Anchor component={Link} to={paths.asset(account, engagement, asset.id)} state={{ from: here }}>
                  {text}
                </Anchor>
              ))
            : cellText(row.original, column),
      })),
    [account, engagement, here],
  );
  const table = useReactTable({
    data: assets.data?.assets ?? [],
    columns,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    manualPagination: true,
    manualFiltering: true,
    state: {
      sorting: [{ id: sort, desc: order === "desc" }],
      columnVisibility: Object.fromEntries(ASSET_COLUMNS.map((c) => [c.id, visible.includes(c.id as string)])),
    },
  });

  function sortBy(column: string) {
    const key = ASSET_COLUMNS.find((c) => c.id === column)?.sort;
    if (!key) return;
    const nextOrder = sort === key && order === "asc" ? "desc" : "asc";
    refilter({ sort: key === "name" && nextOrder === "asc" ? null : key, order: nextOrder === "asc" ? null : "desc" });
  }

  function goNext(next: string) {
    const search = new URLSearchParams(params);
    search.set("cursor", next);
    navigate({ search: search.toString() }, { state: { trail: [...trail, cursor ?? ""] } });
  }

  function goPrevious() {
    const search = new URLSearchParams(params);
    const previous = trail[trail.length - 1];
    if (previous) search.set("cursor", previous);
    else search.delete("cursor");
    navigate({ search: search.toString() }, { state: { trail: trail.slice(0, -1) } });
  }

  const total = assets.data?.total ?? 0;
  const first = trail.length * limit + 1;
  const shown = assets.data?.assets.length ?? 0;
  return (
    <Stack>
      <PageTitle>Assets</PageTitle>
      <Filters filter={filter} refilter={refilter} />
      <Group justify="space-between">
        <Text role="status" aria-live="polite">
          {assets.isPending || assets.isPlaceholderData
            ? "Counting…"
            : total === 0
              ? "No asset matches."
              : `${count(first)}–${count(first + shown - 1)} of ${count(total)} assets`}
        </Text>
        <Group gap="xs">
          <ColumnChooser visible={visible} onChange={(cols) => update({ cols: cols.join(",") })} />
          <ExportButtons account={account} engagement={engagement} filter={filter} sort={sort} order={order} />
          {canWrite && <BulkEdit account={account} engagement={engagement} filter={filter} total={total} />}
        </Group>
      </Group>
      {assets.isPending ? (
        <Loading what="the assets" />
      ) : assets.error ? (
        <Failed error={assets.error} what="the assets" />
      ) : shown === 0 ? (
        <Empty>{Object.keys(filter).length > 0 ? "No asset matches these filters." : "No asset yet: import an inventory."}</Empty>
      ) : (
        <ScrollArea type="auto">
          <Table striped highlightOnHover withTableBorder stickyHeader aria-label="Assets" aria-busy={assets.isFetching}>
            <Table.Thead>
              {table.getHeaderGroups().map((group) => (
                <Table.Tr key={group.id}>
                  {group.headers.map((header) => {
                    const column = ASSET_COLUMNS.find((c) => c.id === header.column.id);
                    const active = column?.sort === sort;
                    const label = flexRender(header.column.columnDef.header, header.getContext());
                    return (
                      <Table.Th
                        key={header.id}
                        aria-sort={active ? (order === "asc" ? "ascending" : "descending") : undefined}
                        style={{ whiteSpace: "nowrap" }}
                      >
                        {column?.sort ? (
                          <UnstyledButton onClick={() => sortBy(header.column.id)} fw={700} fz="sm">
                            {label} {active ? (order === "asc" ? "▲" : "▼") : ""}
                          </UnstyledButton>
                        ) : (
                          label
                        )}
                      </Table.Th>
                    );
                  })}
                </Table.Tr>
              ))}
            </Table.Thead>
            <Table.Tbody>
              {table.getRowModel().rows.map((row) => (
                <Table.Tr key={row.id}>
                  {row.getVisibleCells().map((cell) => (
                    <Table.Td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</Table.Td>
                  ))}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      )}
      <Group justify="space-between">
        <Group gap="xs">
          <Button variant="default" size="xs" disabled={!cursor} onClick={() => refilter({})}>
            First page
          </Button>
          <Button variant="default" size="xs" disabled={!cursor} onClick={goPrevious}>
            Previous
          </Button>
          <Button
            variant="default"
            size="xs"
            disabled={!assets.data?.next_cursor}
            onClick={() => assets.data?.next_cursor && goNext(assets.data.next_cursor)}
          >
            Next
          </Button>
        </Group>
        <Select
          label="Rows per page"
          size="xs"
          w={130}
          data={PAGE_SIZES}
          value={String(limit)}
          allowDeselect={false}
          onChange={(value) => value && refilter({ limit: value === "50" ? null : value })}
        />
      </Group>
    </Stack>
  );
}

/** The filter bar: each control is labelled and writes its value to the URL. */
function Filters({ filter, refilter }: { filter: Filter; refilter: (patch: Record<string, string | null>, replace?: boolean) => void }) {
  const [search, setSearch] = useState(filter.search ?? "");
  const [typed] = useDebouncedValue(search, 300);
  useEffect(() => setSearch(filter.search ?? ""), [filter.search]);
  useEffect(() => {
    if (typed !== (filter.search ?? "")) refilter({ search: typed || null }, true);
    // Only a change of what was typed sends a new search (not a change of the URL).
  }, [typed]);
  const options = (values: readonly string[]) => values.map((value) => ({ value, label: words(value) }));
  const select = (key: "asset_type" | "six_r_strategy" | "criticality", label: string, values: readonly string[]) => (
    <Select
      label={label}
      placeholder="Any"
      clearable
      data={options(values)}
      value={filter[key] ?? null}
      onChange={(value) => refilter({ [key]: value })}
    />
  );
  return (
    <SimpleGrid cols={{ base: 2, md: 3, lg: 6 }} spacing="xs">
      <TextInput
        label="Search"
        placeholder="Name, hostname, IP or FQDN"
        value={search}
        onChange={(e) => setSearch(e.currentTarget.value)}
        type="search"
      />
      {select("asset_type", "Type", ASSET_TYPES)}
      <TextInput
        label="Environment"
        placeholder="Any"
        defaultValue={filter.environment ?? ""}
        key={`env-${filter.environment ?? ""}`}
        onBlur={(e) => e.currentTarget.value !== (filter.environment ?? "") && refilter({ environment: e.currentTarget.value || null })}
        onKeyDown={(e) => e.key === "Enter" && refilter({ environment: e.currentTarget.value || null })}
      />
      <TextInput
        label="OS contains"
        placeholder="Any"
        defaultValue={filter.operating_system ?? ""}
        key={`os-${filter.operating_system ?? ""}`}
        onBlur={(e) =>
          e.currentTarget.value !== (filter.operating_system ?? "") && refilter({ operating_system: e.currentTarget.value || null })
        }
        onKeyDown={(e) => e.key === "Enter" && refilter({ operating_system: e.currentTarget.value || null })}
      />
      {select("criticality", "Criticality", CRITICALITIES)}
      {select("six_r_strategy", "6R strategy", SIX_R_STRATEGIES)}
    </SimpleGrid>
  );
}

/** Which columns the grid shows (kept in the URL, so a shared link shows the same columns). */
function ColumnChooser({ visible, onChange }: { visible: string[]; onChange: (columns: string[]) => void }) {
  return (
    <Popover position="bottom-end" shadow="md" trapFocus>
      <Popover.Target>
        <Button variant="default" size="xs">
          Columns
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <Checkbox.Group
          label="Columns shown"
          value={visible}
          onChange={(columns) => onChange(ASSET_COLUMNS.map((c) => c.id as string).filter((id) => columns.includes(id)))}
        >
          <SimpleGrid cols={2} spacing={6} mt="xs">
            {ASSET_COLUMNS.map((column) => (
              <Checkbox key={column.id} value={column.id as string} label={column.header} size="xs" disabled={column.id === "name"} />
            ))}
          </SimpleGrid>
        </Checkbox.Group>
      </Popover.Dropdown>
    </Popover>
  );
}
