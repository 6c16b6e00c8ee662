/** An RFC 9457 problem from the API (`application/problem+json`), as the UI shows it. */
export interface ProblemBody {
  title?: string;
  status?: number;
  detail?: string;
  /** The input field at fault (422). */
  field?: string;
  request_id?: string;
}

/** A failed API call: the HTTP status and the problem the server sent, in words. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly field: string | undefined;
  readonly requestId: string | undefined;

  constructor(status: number, body: ProblemBody | undefined) {
    const title = body?.title ?? `HTTP ${status}`;
    super(body?.detail ? `${title}: ${body.detail}` : title);
    this.name = "ApiProblem";
    this.status = status;
    this.field = body?.field;
    this.requestId = body?.request_id;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }
}

/** Turns an openapi-fetch result into its data, or throws the API's problem. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.error === undefined) {
    return result.data as T;
  }
  const body = typeof result.error === "object" && result.error !== null ? (result.error as ProblemBody) : undefined;
  throw new ApiProblem(result.response.status, body);
}
