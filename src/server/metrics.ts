// Prometheus metrics, in a registry per app (tests build many apps in one process).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
  ingested: Counter<'namespace' | 'result'>;
  denials: Counter<'code'>;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'custody_' });
  return {
    registry,
    requests: new Counter({ name: 'custody_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    duration: new Histogram({
      name: 'custody_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    ingested: new Counter({ name: 'custody_attestations_ingested_total', help: 'Attestations uploaded, by result (created|existing)', labelNames: ['namespace', 'result'], registers: [registry] }),
    denials: new Counter({ name: 'custody_auth_denials_total', help: 'Requests refused by authentication or authorization', labelNames: ['code'], registers: [registry] }),
  };
}
