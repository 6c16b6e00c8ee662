import createClient from "openapi-fetch";
import type { paths, components } from "./schema";

/** The API client, typed from the committed OpenAPI document (docs/openapi.json → schema.d.ts).
 * Same origin: the session cookie (HttpOnly, SameSite=Strict) goes along by itself. */
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: "same-origin" });

export type Schemas = components["schemas"];
