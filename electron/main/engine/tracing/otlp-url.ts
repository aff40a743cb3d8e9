// The OTLP traces URL, apart from the exporter (otlp.ts): the command line checks it before any
// OpenTelemetry module is loaded.

export const TRACES_PATH = '/v1/traces';

/** `endpoint` as the URL to POST to; throws on a malformed or non-HTTP URL (a config mistake). */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`OTLP endpoint must be http or https: ${endpoint}`);
  }
  if (url.pathname === '' || url.pathname === '/') url.pathname = TRACES_PATH;
  return url.toString();
}

/**
 * The endpoint the OpenTelemetry environment variables ask for, as a full traces URL:
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else OTEL_EXPORTER_OTLP_ENDPOINT plus /v1/traces.
 */
export function otlpEndpointFromEnv(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) return base.replace(/\/+$/, '') + TRACES_PATH;
  return undefined;
}
