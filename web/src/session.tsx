import { createContext, useContext } from "react";
import { useQuery } from "@tanstack/react-query";
import { Navigate, useLocation } from "react-router-dom";
import { api, type Schemas } from "./api/client";
import { ApiProblem, unwrap } from "./api/problem";
import { Failed, Loading } from "./components/States";

export type Me = Schemas["MeView"];
export type Role = "admin" | "analyst" | "viewer";

const MeContext = createContext<Me | null>(null);

/** The signed-in caller; only inside <RequireSession>. */
export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error("useMe outside <RequireSession>");
  return me;
}

/** The caller's role in a client account (platform admins act as admins everywhere). */
export function useRole(account: string | undefined): Role | undefined {
  const me = useMe();
  if (me.user.is_platform_admin) return "admin";
  const membership = me.memberships.find(
    (m) => m.client_account_slug === account || m.client_account_id === account,
  );
  return membership?.role as Role | undefined;
}

/** Whether the caller may change things in this account: viewers see no write buttons (the API
 * refuses them anyway with 403). */
export function useCanWrite(account: string | undefined): boolean {
  const role = useRole(account);
  return role === "admin" || role === "analyst";
}

export function RequireSession({ children }: { children: React.ReactNode }) {
  const location = useLocation();
  const me = useQuery({
    queryKey: ["me"],
    queryFn: async () => unwrap(await api.GET("/api/v1/me")),
  });
  if (me.isPending) return <Loading what="your session" />;
  if (me.error instanceof ApiProblem && me.error.status === 401) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/sign-in?next=${next}`} replace />;
  }
  if (me.error) return <Failed error={me.error} what="your session" />;
  return <MeContext.Provider value={me.data}>{children}</MeContext.Provider>;
}
