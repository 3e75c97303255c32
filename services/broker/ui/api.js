// The admin REST API from the page: same origin, the session cookie rides
// along by itself, and every change carries the console header the broker
// asks of cookie-authenticated writes (a cross-site form cannot set it).

/** An answer other than 2xx, carrying the problem+json body. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
    this.reason = problem?.reason ?? `HTTP_${status}`;
    this.problem = problem ?? {};
  }
}

async function call(method, path, body) {
  const headers = { accept: "application/json" };
  if (method !== "GET") headers["x-dmabroker-console"] = "1";
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

const enc = encodeURIComponent;

export const api = {
  session: () => call("GET", "/v1/session"),
  signIn: (token) => call("POST", "/v1/session", { token }),
  signOut: () => call("DELETE", "/v1/session"),
  providers: () => call("GET", "/v1/providers"),
  provider: (id) => call("GET", `/v1/providers/${enc(id)}`),
  channels: () => call("GET", "/v1/channels"),
  leases: () => call("GET", "/v1/leases"),
  unbind: (id, body) => call("POST", `/v1/providers/${enc(id)}/unbind`, body),
  bind: (id) => call("POST", `/v1/providers/${enc(id)}/bind`),
  removeChannel: (id, index, body) => call("POST", `/v1/providers/${enc(id)}/channels/${index}/remove`, body),
  revoke: (leaseId, reason) => call("DELETE", `/v1/leases/${enc(leaseId)}${reason ? `?reason=${enc(reason)}` : ""}`),
};
