// How the app and `loom ui` configure the traces side: the OTLP receiver's port (or off) and the
// external collector, from the environment unless the command line says otherwise.
import { ValidationError } from '../engine/errors';
import { tracesUrl } from '../engine/tracing/otlp';
import { DEFAULT_OTLP_PORT } from './otlp-receiver';
import type { CollectorConfig } from './trace-hub';

export interface TracesConfig {
  receiver: false | { port: number };
  collector?: CollectorConfig;
}

type Env = Readonly<Record<string, string | undefined>>;

/** LOOM_OTLP_PORT (a port, 0 for any free one, or 'off'), LOOM_TRACE_COLLECTOR and LOOM_TRACE_COLLECTOR_VIEW. */
export function tracesConfigFrom(env: Env, overrides: { port?: string; collector?: string; collectorView?: string } = {}): TracesConfig {
  const port = receiverPort(overrides.port ?? env['LOOM_OTLP_PORT'], overrides.port !== undefined ? '--otlp-port' : 'LOOM_OTLP_PORT');
  const endpoint = overrides.collector ?? env['LOOM_TRACE_COLLECTOR'];
  const viewUrl = overrides.collectorView ?? env['LOOM_TRACE_COLLECTOR_VIEW'];
  const config: TracesConfig = { receiver: port === false ? false : { port } };
  if (endpoint) {
    const field = overrides.collector !== undefined ? '--collector' : 'LOOM_TRACE_COLLECTOR';
    try {
      tracesUrl(endpoint);
    } catch {
      throw new ValidationError(field, `must be an http:// or https:// OTLP URL, got '${endpoint.slice(0, 100)}'`);
    }
    config.collector = { endpoint };
    if (viewUrl) {
      if (!/^https?:\/\//.test(viewUrl)) throw new ValidationError(overrides.collectorView !== undefined ? '--collector-view' : 'LOOM_TRACE_COLLECTOR_VIEW', 'must be an http:// or https:// URL with {traceId} in it');
      config.collector.viewUrl = viewUrl;
    }
  }
  return config;
}

function receiverPort(raw: string | undefined, field: string): number | false {
  if (raw === undefined || raw === '') return DEFAULT_OTLP_PORT;
  if (raw === 'off') return false;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new ValidationError(field, `must be a port (0-65535; 0 picks a free one) or 'off', got '${raw.slice(0, 40)}'`);
  return Number(raw);
}
