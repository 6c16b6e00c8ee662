import { useCallback } from "react";
import { useSearchParams } from "react-router-dom";

/** A change to the query string: a value sets a key, `null` (or "") removes it. */
export type QueryPatch = Record<string, string | number | null | undefined>;

/**
 * The page's state held in the URL's query string (filters, sort, page position, tabs), so a link
 * can be shared and the back button goes to the previous state. Each `update` is a new history
 * entry unless `replace` is asked (for keystrokes in a search box, say).
 */
export function useQueryState(): [URLSearchParams, (patch: QueryPatch, options?: { replace?: boolean }) => void] {
  const [params, setParams] = useSearchParams();
  const update = useCallback(
    (patch: QueryPatch, options?: { replace?: boolean }) => {
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const [key, value] of Object.entries(patch)) {
            if (value === null || value === undefined || value === "") next.delete(key);
            else next.set(key, String(value));
          }
          return next;
        },
        { replace: options?.replace ?? false },
      );
    },
    [setParams],
  );
  return [params, update];
}

/** A query parameter as a number, or the fallback when absent or not a number. */
export function numberParam(params: URLSearchParams, key: string, fallback: number): number {
  const raw = params.get(key);
  const value = raw === null ? Number.NaN : Number(raw);
  return Number.isFinite(value) ? value : fallback;
}
