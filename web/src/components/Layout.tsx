import { Suspense } from "react";
import { AppShell, Burger, Button, Group, NavLink, Select, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useQueryClient } from "@tanstack/react-query";
import { Link, Outlet, useLocation, useNavigate, useParams } from "react-router-dom";
import { api } from "../api/client";
import { Loading } from "./States";
import { useMe, useRole } from "../session";

/** The workspace frame: the client-account and engagement switcher, the page links, sign out. */
export function Layout() {
  const me = useMe();
  const { account, engagement } = useParams();
  const role = useRole(account);
  const navigate = useNavigate();
  const location = useLocation();
  const queries = useQueryClient();
  const [opened, { toggle }] = useDisclosure();


  async function signOut() {
    await api.POST("/api/v1/auth/logout");
    queries.clear();
    navigate("/sign-in");
  }

  const base = account && engagement ? `/a/${account}/e/${engagement}` : undefined;
  const links = base
    ? [
        { to: base, label: "Dashboard" },
        { to: `${base}/import`, label: "Import" },
        { to: `${base}/flows`, label: "Flows" },
        { to: `${base}/assets`, label: "Assets" },
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
              onChange={(value) => value && navigate(`/a/${value}`)}
              allowDeselect={false}
            />
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
        {account && role === "admin" && (
          <NavLink
            component={Link}
            to={`/a/${account}/admin`}
            label="Admin"
            active={location.pathname.startsWith(`/a/${account}/admin`)}
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
