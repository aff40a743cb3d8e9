// ExecuteRequests arrive from the UI as proto3 JSON. protobuf-es rejects bad JSON with a message
// about the message type, not the request path; this finds the field and names it the way the
// engine's ValidationErrors do (config.resource_limits.memory_mb), so the form can point at it.
import { fromJson, type DescField, type DescMessage, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { ExecuteRequestSchema, type ExecuteRequest } from '../../../shared/gen/loom/v1/docker_pb';
import { ValidationError } from '../engine/errors';

export function parseRequestJson(json: unknown): ExecuteRequest {
  if (!isObject(json)) throw new ValidationError('request', 'must be a JSON object (an ExecuteRequest)');
  try {
    return fromJson(ExecuteRequestSchema, json);
  } catch (err) {
    const found = locate(ExecuteRequestSchema, json, '');
    throw new ValidationError(found?.field ?? 'request', found?.problem ?? messageOf(err));
  }
}

interface Located {
  field: string;
  problem: string;
}

function locate(desc: DescMessage, json: JsonObject, path: string): Located | undefined {
  for (const [key, value] of Object.entries(json)) {
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    const here = join(path, field?.name ?? key);
    if (!field) return { field: here, problem: `unknown field '${key}' in ${desc.name}` };
    if (value === null) continue;
    const inner = locateInside(field, value, here);
    if (inner) return inner;
    try {
      fromJson(desc, { [key]: value });
    } catch (err) {
      return { field: here, problem: describe(field, value, err) };
    }
  }
  return undefined;
}

/** Descends into message fields (single, repeated, map values) to name the innermost field. */
function locateInside(field: DescField, value: JsonValue, here: string): Located | undefined {
  const message = field.message;
  // Well-known types (Struct, Timestamp...) have JSON forms of their own: not walked.
  if (!message || message.typeName.startsWith('google.protobuf.')) return undefined;
  if (field.fieldKind === 'message' && isObject(value)) return locate(message, value, here);
  if (field.fieldKind === 'list' && Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = isObject(item) ? locate(message, item, `${here}[${i}]`) : undefined;
      if (found) return found;
    }
  }
  if (field.fieldKind === 'map' && isObject(value)) {
    for (const [k, item] of Object.entries(value)) {
      const found = isObject(item) ? locate(message, item, `${here}.${k}`) : undefined;
      if (found) return found;
    }
  }
  return undefined;
}

function describe(field: DescField, value: JsonValue, err: unknown): string {
  const names = field.enum?.values.map((v) => v.name);
  if (names && typeof value === 'string' && !names.includes(value)) {
    return `${JSON.stringify(value)} is not a ${field.enum?.name ?? 'known value'} (expected one of ${names.join(', ')})`;
  }
  // "cannot decode field loom.v1.ResourceLimits.memory_mb from JSON: expected ..." → "expected ..."
  return messageOf(err).replace(/^cannot decode field \S+ from JSON: /, '');
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
