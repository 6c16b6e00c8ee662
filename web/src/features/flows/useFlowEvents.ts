import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";

/** Whether a flow's status can still change by itself. */
export function isLive(status: string | undefined): boolean {
  return status === "initialized" || status === "pending" || status === "running";
}

/**
 * Follows a discovery flow's Server-Sent Events (`…/flows/{id}/events`) while `live`: each
 * `progress` event (and the last, `end`) says the flow changed, and refreshes the flow's cached
 * reads (its summary has the phases, their states and durations, in the generated types; the
 * events' own JSON is not in the OpenAPI document, so it is not read here). EventSource sends the
 * session cookie (same origin) and reconnects by itself after a dropped connection; the stream is
 * closed on `end` and when the page goes. Returns the server's `error` event's message, if any.
 */
export function useFlowEvents(url: string, flowId: string, live: boolean): string | null {
  const queries = useQueryClient();
  const [streamError, setStreamError] = useState<string | null>(null);
  useEffect(() => {
    if (!live) return undefined;
    const source = new EventSource(url);
    const refresh = () => void queries.invalidateQueries({ queryKey: ["flow", flowId] });
    source.addEventListener("progress", refresh);
    source.addEventListener("end", () => {
      refresh();
      source.close();
    });
    // The server's own `error` event (the flow can no longer be read) carries a message; a
    // connection error has none, and EventSource retries it.
    source.addEventListener("error", (event) => {
      const message = (event as MessageEvent<string>).data;
      if (message) {
        setStreamError(message);
        source.close();
      }
    });
    return () => source.close();
  }, [url, flowId, live, queries]);
  return streamError;
}
