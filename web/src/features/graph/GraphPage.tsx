import { Anchor, Group, List, Select, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { api } from "../../api/client";
import { unwrap } from "../../api/problem";
import { PageTitle } from "../../components/Layout";
import { Empty, Failed, Loading } from "../../components/States";
import { words } from "../../lib/format";
import { paths } from "../../lib/paths";
import { numberParam, useQueryState } from "../../lib/urlState";
import { GraphView } from "./GraphView";

/** /…/dependencies?asset=…&depth=…: the dependency graph around one asset (an application and
 * its servers, say), pannable and zoomable, with the same edges as a list of links for keyboard
 * and screen-reader users. Without an asset, the engagement's applications to pick from. */
export function GraphPage() {
  const { account = "", engagement = "" } = useParams();
  const [params, update] = useQueryState();
  const asset = params.get("asset");
  const depth = Math.min(5, Math.max(1, numberParam(params, "depth", 2)));
  const applications = useQuery({
    queryKey: ["assets", account, engagement, { asset_type: "application" }, "graph-picker"],
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/assets", {
          params: { path: { account, engagement }, query: { asset_type: "application", limit: 1000 } },
        }),
      ),
  });
  const graph = useQuery({
    queryKey: ["graph", account, engagement, asset, depth],
    enabled: Boolean(asset),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/assets/{asset}/dependency-graph", {
          params: { path: { account, engagement, asset: asset ?? "" }, query: { depth } },
        }),
      ),
  });
  const options = (applications.data?.assets ?? []).map((a) => ({ value: a.id, label: a.name }));
  const root = graph.data?.nodes.find((n) => n.id === graph.data?.root);
  if (root && !options.some((o) => o.value === root.id)) options.unshift({ value: root.id, label: root.name });
  const names = new Map((graph.data?.nodes ?? []).map((n) => [n.id, n.name]));

  return (
    <Stack>
      <PageTitle>Dependencies</PageTitle>
      <Group align="flex-end">
        <Select
          label="Around"
          placeholder={applications.isPending ? "Loading applications…" : "Pick an application"}
          searchable
          w={320}
          data={options}
          value={asset}
          onChange={(value) => update({ asset: value })}
          nothingFoundMessage="No application by that name"
        />
        <Select
          label="Depth"
          w={100}
          data={["1", "2", "3", "4", "5"]}
          value={String(depth)}
          allowDeselect={false}
          onChange={(value) => update({ depth: value === "2" ? null : value })}
        />
      </Group>
      {!asset ? (
        applications.error ? (
          <Failed error={applications.error} what="the applications" />
        ) : (
          <Empty>Pick an application (or open an asset and choose "Show the graph").</Empty>
        )
      ) : graph.isPending ? (
        <Loading what="the graph" />
      ) : graph.error ? (
        <Failed error={graph.error} what="asset" />
      ) : (
        <>
          <Text size="sm">
            {graph.data.nodes.length} assets and {graph.data.edges.length} dependencies within {graph.data.depth} of{" "}
            <Anchor component={Link} to={paths.asset(account, engagement, graph.data.root)}>
              {root?.name ?? "the asset"}
            </Anchor>
            {graph.data.truncated ? " (cut at the nearest 500 assets)" : ""}. Click an asset to centre the graph on it.
          </Text>
          <GraphView
            nodes={graph.data.nodes.map((n) => ({
              id: n.id,
              label: n.name,
              kind: `${words(n.asset_type)}${n.six_r_strategy ? ` · ${n.six_r_strategy}` : ""}`,
              focus: n.id === graph.data.root,
            }))}
            edges={graph.data.edges.map((e) => ({ id: e.id, source: e.source, target: e.target, label: words(e.dependency_type) }))}
            onOpen={(id) => update({ asset: id })}
          />
          <section aria-labelledby="edges-title">
            <Title order={2} size="h4" id="edges-title">
              The same dependencies as a list
            </Title>
            <List size="sm">
              {graph.data.edges.map((e) => (
                <List.Item key={e.id}>
                  <Anchor component={Link} to={paths.asset(account, engagement, e.source)}>
                    {names.get(e.source)}
                  </Anchor>{" "}
                  {words(e.dependency_type).toLowerCase()}{" "}
                  <Anchor component={Link} to={paths.asset(account, engagement, e.target)}>
                    {names.get(e.target)}
                  </Anchor>{" "}
                  <Anchor component="button" size="xs" onClick={() => update({ asset: e.target })}>
                    (centre on it)
                  </Anchor>
                </List.Item>
              ))}
            </List>
          </section>
        </>
      )}
    </Stack>
  );
}
