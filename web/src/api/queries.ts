import { useQuery } from "@tanstack/react-query";
import { api } from "./client";
import { unwrap } from "./problem";

/** The engagements of a client account that the caller can reach (the switcher's list). */
export function useEngagements(account: string | undefined) {
  return useQuery({
    queryKey: ["engagements", account],
    enabled: Boolean(account),
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements", {
          params: { path: { account: account ?? "" } },
        }),
      ),
  });
}

/** One engagement (404 for another tenant's, which the pages show as "not found"). */
export function useEngagement(account: string, engagement: string, enabled = true) {
  return useQuery({
    queryKey: ["engagement", account, engagement],
    enabled,
    queryFn: async () =>
      unwrap(
        await api.GET("/api/v1/client-accounts/{account}/engagements/{engagement}", {
          params: { path: { account, engagement } },
        }),
      ),
  });
}
