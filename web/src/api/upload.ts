import { ApiProblem, type ProblemBody } from "./problem";

/** Bytes sent so far and the total, as the browser reports an upload's progress. */
export interface UploadProgress {
  loaded: number;
  total: number;
}

/**
 * POSTs a multipart form with XMLHttpRequest, whose `upload.onprogress` reports bytes sent (fetch
 * cannot report an upload's progress). Resolves to the JSON answer of a 2xx; rejects with the
 * API's problem otherwise (413 for a file over the server's limit, 422 naming the field), or with
 * an ApiProblem of status 0 when the connection failed. `signal` aborts the upload.
 */
export function uploadForm<T>(
  url: string,
  form: FormData,
  onProgress: (progress: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.withCredentials = true;
    request.responseType = "text";
    request.setRequestHeader("Accept", "application/json");
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress({ loaded: event.loaded, total: event.total });
    };
    request.onload = () => {
      let body: unknown;
      try {
        body = request.responseText ? JSON.parse(request.responseText) : undefined;
      } catch {
        body = undefined;
      }
      if (request.status >= 200 && request.status < 300) resolve(body as T);
      else reject(new ApiProblem(request.status, body as ProblemBody | undefined));
    };
    request.onerror = () =>
      reject(new ApiProblem(0, { title: "Upload failed", detail: "the connection to the server was lost" }));
    request.onabort = () => reject(new ApiProblem(0, { title: "Upload cancelled" }));
    signal?.addEventListener("abort", () => request.abort());
    request.send(form);
  });
}
