// The Traces view's filter form and the TraceQuery it stands for.
import type { TraceQuery } from '../../../../shared/api';

export interface TraceFilterForm {
  text: string;
  service: string;
  spanName: string;
  attributeKey: string;
  attributeValue: string;
  status: '' | 'ok' | 'error';
  minDurationMs: string;
  maxDurationMs: string;
  /** Minutes back from now; '' for any time. */
  sinceMinutes: string;
}

export const EMPTY_FILTERS: TraceFilterForm = {
  text: '',
  service: '',
  spanName: '',
  attributeKey: '',
  attributeValue: '',
  status: '',
  minDurationMs: '',
  maxDurationMs: '',
  sinceMinutes: '',
};

function number(text: string): number | undefined {
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function toTraceQuery(form: TraceFilterForm, now = Date.now()): TraceQuery {
  const query: TraceQuery = { limit: 200 };
  if (form.text.trim()) query.text = form.text.trim();
  if (form.service.trim()) query.service = form.service.trim();
  if (form.spanName.trim()) query.spanName = form.spanName.trim();
  if (form.attributeKey.trim()) {
    query.attributeKey = form.attributeKey.trim();
    if (form.attributeValue !== '') query.attributeValue = form.attributeValue;
  }
  if (form.status) query.status = form.status;
  const min = number(form.minDurationMs);
  const max = number(form.maxDurationMs);
  if (min !== undefined) query.minDurationMs = min;
  if (max !== undefined) query.maxDurationMs = max;
  const since = number(form.sinceMinutes);
  if (since !== undefined) query.fromMs = now - since * 60_000;
  return query;
}
