// A TraceQuery as it arrives from a page: untrusted JSON, checked field by field.
import type { TraceQuery } from '../../../shared/traces/types';
import { ValidationError } from '../engine/errors';

const TEXT_FIELDS = ['text', 'service', 'spanName', 'attributeKey', 'attributeValue'] as const;
const NUMBER_FIELDS = ['minDurationMs', 'maxDurationMs', 'fromMs', 'toMs', 'limit'] as const;
const MAX_TEXT = 1024;

export function checkTraceQuery(input: unknown): TraceQuery {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new ValidationError('query', 'must be an object of filters');
  const raw = input as Record<string, unknown>;
  const known = new Set<string>([...TEXT_FIELDS, ...NUMBER_FIELDS, 'status']);
  for (const key of Object.keys(raw)) if (!known.has(key)) throw new ValidationError(`query.${key.slice(0, 40)}`, 'is not a trace filter');
  const query: TraceQuery = {};
  for (const field of TEXT_FIELDS) {
    const value = raw[field];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string' || value.length > MAX_TEXT) throw new ValidationError(`query.${field}`, `must be text of at most ${MAX_TEXT} characters`);
    query[field] = value;
  }
  for (const field of NUMBER_FIELDS) {
    const value = raw[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ValidationError(`query.${field}`, 'must be a number, zero or more');
    query[field] = value;
  }
  if (raw['status'] !== undefined && raw['status'] !== '') {
    if (raw['status'] !== 'ok' && raw['status'] !== 'error') throw new ValidationError('query.status', "must be 'ok' or 'error'");
    query.status = raw['status'];
  }
  if (query.minDurationMs !== undefined && query.maxDurationMs !== undefined && query.minDurationMs > query.maxDurationMs) {
    throw new ValidationError('query.minDurationMs', 'must not be above query.maxDurationMs');
  }
  return query;
}
