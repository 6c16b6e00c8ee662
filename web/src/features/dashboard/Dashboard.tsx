import { Anchor, Card, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useQueries } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { api } from "../../api/client";
import { useEngagement } from "../../api/queries";
import { unwrap } from "../../api/problem";
import { PageTitle } from "../../components/Layout";
import { Failed, Loading } from "../../components/States";
import { count, words } from "../../lib/format";
import { paths } from "../../lib/paths";
import type { AssetListQuery } from "../assets/columns";
import { ASSET_TYPES } from "../assets/enums";
import { CountChart, type Slice } from "./CountChart";
import { FlowsPanel, QualityPanel, SixRPanel } from "./Panels";

/** The environments a dashboard counts by name (the API matches them in any case); the rest are
 * "other or none". */
const ENVIRONMENTS = ["production", "staging", "uat", "test", "qa", "development", "dr"];
const ACRONYMS: Record<string, string> = { uat: "UAT", qa: "QA", dr: "DR" };

/** How many assets match each filter: the listing's total, one small request each (the server
 * counts, whatever the inventory's size). */
function useTotals(account: string, engagement: string, filters: AssetListQuery[]) {
  return useQueries({
    queries: filters.map((filter) => ({
      queryKey: ["assets", account, engagement, filter, "total"],
      queryFn: async () =>
        unwrap(
          await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}/assets", {
            params: { path: { account, engagement }, query: { ...filter, limit: 1 } },
          }),
        ).total,
    })),
  });
}

/** /a/{account}/e/{engagement}: the engagement at a glance. */
export function Dashboard() {
  const { account = "", engagement = "" } = useParams();
  const found = useEngagement(account, engagement);
  const assets = paths.assets(account, engagement);
  const [all, ...byType] = useTotals(account, engagement, [{}, ...ASSET_TYPES.map((asset_type) => ({ asset_type }))]);
  const byEnvironment = useTotals(account, engagement, ENVIRONMENTS.map((environment) => ({ environment })));
  const pending = [all, ...byType, ...byEnvironment].some((q) => q?.isPending);
  const failed = [all, ...byType, ...byEnvironment].find((q) => q?.error)?.error;
  const total = all?.data ?? 0;

  const typeSlices: Slice[] = ASSET_TYPES.flatMap((type, i) => {
    const n = byType[i]?.data ?? 0;
    return n > 0 ? [{ label: words(type), value: n, href: `${assets}?asset_type=${type}` }] : [];
  });
  const named = ENVIRONMENTS.map((env, i) => ({ env, n: byEnvironment[i]?.data ?? 0 }));
  const other = total - named.reduce((sum, e) => sum + e.n, 0);
  const environmentSlices: Slice[] = [
    ...named.filter((e) => e.n > 0).map((e) => ({ label: ACRONYMS[e.env] ?? words(e.env), value: e.n, href: `${assets}?environment=${e.env}` })),
    ...(other > 0 ? [{ label: "Other or none", value: other }] : []),
  ];

  return (
    <Stack>
      <PageTitle>{found.data?.name ?? engagement}</PageTitle>
      {found.data?.description && <Text>{found.data.description}</Text>}
      {failed ? (
        <Failed error={failed} what="the inventory's figures" />
      ) : pending ? (
        <Loading what="the inventory's figures" />
      ) : (
        <>
          <Card withBorder>
            <Group justify="space-between">
              <Title order={2} size="h3">
                {count(total)} assets
              </Title>
              <Anchor component={Link} to={assets}>
                Open the inventory
              </Anchor>
            </Group>
          </Card>
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            <CountChart title="Assets by type" slices={typeSlices} empty="No asset yet." />
            <CountChart title="Assets by environment" slices={environmentSlices} empty="No asset yet." />
            <SixRPanel account={account} engagement={engagement} />
            <FlowsPanel account={account} engagement={engagement} />
          </SimpleGrid>
          <QualityPanel account={account} engagement={engagement} />
        </>
      )}
    </Stack>
  );
}
