// What one span may carry once received: senders are untrusted, and a span that holds a million
// attributes or a nested value a thousand levels deep must cost a bounded amount. Past these,
// the extra is left out (counts) or cut (text).
export const SPAN_LIMITS = {
  attributes: 256,
  events: 256,
  links: 128,
  /** Characters of a name, a string value or a status message. */
  textChars: 32 * 1024,
  /** AnyValue nesting (lists and maps). */
  valueDepth: 8,
  /** Items of one list or map value. */
  valueItems: 1024,
} as const;

export function clipText(text: string): string {
  return text.length > SPAN_LIMITS.textChars ? `${text.slice(0, SPAN_LIMITS.textChars)}…` : text;
}

/** A hex id of `bytes` bytes that is not all zero (OpenTelemetry's validity rule). */
export function validId(id: string, bytes: 8 | 16): boolean {
  return id.length === bytes * 2 && /^[0-9a-f]+$/.test(id) && !/^0+$/.test(id);
}
