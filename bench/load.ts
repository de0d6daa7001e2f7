import autocannon from "autocannon";

export interface LoadOptions {
  /** Full URL, path included. */
  url: string;
  connections: number;
  seconds: number;
  method?: "GET" | "POST";
  /** Headers for the n-th connection (each connection can be a different user). */
  headersFor?: (connection: number) => Record<string, string>;
  /** Body for the n-th connection. */
  bodyFor?: (connection: number) => string;
  /** Fixed request rate across all connections; unset = as fast as the server answers. */
  overallRate?: number;
}

export interface LoadResult {
  responses: number;
  non2xx: number;
  errors: number;
  seconds: number;
  /** Every response time, in ms at full precision (autocannon's own histogram rounds to whole ms). */
  latenciesMs: number[];
}

/** Runs autocannon from this process against the server process and records every response time. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let connection = 0;
  const latenciesMs: number[] = [];
  let non2xx = 0;
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    method: options.method ?? "GET",
    timeout: 30,
    ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
    setupClient: (client) => {
      const n = connection++;
      const headers = options.headersFor?.(n);
      const body = options.bodyFor?.(n);
      if (headers && body !== undefined) client.setHeadersAndBody(headers, body);
      else if (headers) client.setHeaders(headers);
      else if (body !== undefined) client.setBody(body);
    },
  });
  instance.on("response", (_client, statusCode, _bytes, responseTimeMs) => {
    latenciesMs.push(responseTimeMs);
    if (statusCode < 200 || statusCode > 299) non2xx++;
  });
  const result = await instance;
  return { responses: latenciesMs.length, non2xx, errors: result.errors, seconds: result.duration, latenciesMs };
}

/** Several runs of the same load as one: totals add up, latencies pool. */
export function mergeLoads(results: readonly LoadResult[]): LoadResult {
  return {
    responses: results.reduce((sum, r) => sum + r.responses, 0),
    non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    seconds: results.reduce((sum, r) => sum + r.seconds, 0),
    latenciesMs: results.flatMap((r) => r.latenciesMs),
  };
}

/** The q-quantile (0..1) of a list of numbers, nearest-rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const requestsPerSecond = (result: LoadResult): number => (result.responses - result.non2xx) / result.seconds;

/** A remark for a row whose load saw failures: a fast 401 must never pass for a fast route. */
export function failureNote(result: LoadResult): string | undefined {
  if (result.non2xx === 0 && result.errors === 0) return undefined;
  return `${result.non2xx} non-2xx, ${result.errors} errors`;
}
