import { Suspense } from "react";
import { AppShell, Burger, Button, Group, NavLink, Select, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useQueryClient } from "@tanstack/react-query";
import { Link, Outlet, useLocation, useNavigate, useParams } from "react-router-dom";
import { api } from "../api/client";
import { useEngagements } from "../api/queries";
import { paths } from "../lib/paths";
import { Loading } from "./States";
import { useMe, useRole } from "../session";

/** The workspace frame: the client-account and engagement switchers, the page links, sign out.
 * Switching keeps the reader on the same kind of page (assets stay assets) but drops its query
 * string: another engagement's filters and cursor mean nothing here. */
export function Layout() {
  const me = useMe();
  const { account, engagement } = useParams();
  const role = useRole(account);
  const navigate = useNavigate();
  const location = useLocation();
  const queries = useQueryClient();
  const [opened, { toggle }] = useDisclosure();
  const engagements = useEngagements(role ? account : undefined);

  async function signOut() {
    await api.POST("/api/v1/auth/logout");
    queries.clear();
    navigate("/sign-in");
  }

  function switchEngagement(next: string) {
    if (!account) return;
    // Same section in the other engagement (/assets, /flows, …), not a specific asset or flow.
    const section = engagement ? location.pathname.split("/")[5] : undefined;
    const keep = section && ["import", "flows", "assets", "dependencies"].includes(section) ? `/${section}` : "";
    navigate(paths.engagement(account, next) + keep);
  }

  const base = account && engagement ? paths.engagement(account, engagement) : undefined;
  const links = account && engagement && base
    ? [
        { to: base, label: "Dashboard" },
        { to: paths.import(account, engagement), label: "Import" },
        { to: paths.flows(account, engagement), label: "Flows" },
        { to: paths.assets(account, engagement), label: "Assets" },
        { to: paths.graph(account, engagement), label: "Dependencies" },
      ]
    : [];

  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Show navigation" />
            <Text fw={700} component={Link} to="/" aria-label="Modernize home">
              Modernize
            </Text>
            <Select
              aria-label="Client account"
              placeholder="Client account"
              size="xs"
              w={200}
              value={account ?? null}
              data={me.memberships.map((m) => ({ value: m.client_account_slug, label: m.client_account_slug }))}
              onChange={(value) => value && navigate(paths.account(value))}
              allowDeselect={false}
            />
            {account && role && (
              <Select
                aria-label="Engagement"
                placeholder={engagements.isPending ? "Loading engagements…" : "Engagement"}
                size="xs"
                w={200}
                value={engagement ?? null}
                data={(engagements.data ?? []).map((e) => ({ value: e.slug, label: e.name }))}
                onChange={(value) => value && switchEngagement(value)}
                allowDeselect={false}
                nothingFoundMessage="No engagement"
              />
            )}
          </Group>
          <Group wrap="nowrap">
            <Text size="sm" visibleFrom="sm">
              {me.user.email}
              {role ? ` · ${role}` : ""}
            </Text>
            <Button variant="default" size="xs" onClick={signOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Pages">
        {links.map((link) => (
          <NavLink
            key={link.to}
            component={Link}
            to={link.to}
            label={link.label}
            active={link.to === base ? location.pathname === base : location.pathname.startsWith(link.to)}
          />
        ))}
        {account && role && (
          <NavLink
            component={Link}
            to={paths.admin(account)}
            label="Members and tokens"
            active={location.pathname.startsWith(paths.admin(account))}
          />
        )}
      </AppShell.Navbar>
      <AppShell.Main>
        <Suspense fallback={<Loading what="the page" />}>
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}

export function PageTitle({ children }: { children: React.ReactNode }) {
  return (
    <Title order={1} size="h2" mb="md">
      {children}
    </Title>
  );
}
