// The filters over the trace list: free text, service, span name, attribute, status, duration, time.
import type { TraceFilterForm } from './trace-filters';

interface Props {
  value: TraceFilterForm;
  services: readonly string[];
  onChange: (next: TraceFilterForm) => void;
}

export function TraceFilters({ value, services, onChange }: Props) {
  const set = <K extends keyof TraceFilterForm>(key: K, v: TraceFilterForm[K]): void => onChange({ ...value, [key]: v });
  return (
    <form className="trace-filters" onSubmit={(e) => e.preventDefault()} aria-label="Trace filters">
      <input type="search" placeholder="Search: trace id, span or root name" value={value.text} onChange={(e) => set('text', e.target.value)} data-testid="traces-search" aria-label="Search traces" />
      <div className="trace-filter-row">
        <input list="trace-services" placeholder="Service" value={value.service} onChange={(e) => set('service', e.target.value)} data-testid="traces-service" aria-label="Service" />
        <datalist id="trace-services">
          {services.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
        <input placeholder="Span name" value={value.spanName} onChange={(e) => set('spanName', e.target.value)} data-testid="traces-span-name" aria-label="Span name" />
      </div>
      <div className="trace-filter-row">
        <input placeholder="Attribute key" value={value.attributeKey} onChange={(e) => set('attributeKey', e.target.value)} data-testid="traces-attr-key" aria-label="Attribute key" />
        <input placeholder="value" value={value.attributeValue} onChange={(e) => set('attributeValue', e.target.value)} data-testid="traces-attr-value" aria-label="Attribute value" />
      </div>
      <div className="trace-filter-row">
        <select value={value.status} onChange={(e) => set('status', e.target.value as TraceFilterForm['status'])} data-testid="traces-status" aria-label="Status">
          <option value="">Any status</option>
          <option value="error">With errors</option>
          <option value="ok">Without errors</option>
        </select>
        <select value={value.sinceMinutes} onChange={(e) => set('sinceMinutes', e.target.value)} data-testid="traces-since" aria-label="Time">
          <option value="">Any time</option>
          <option value="15">Last 15 min</option>
          <option value="60">Last hour</option>
          <option value="1440">Last 24 h</option>
        </select>
      </div>
      <div className="trace-filter-row">
        <input inputMode="decimal" placeholder="Min ms" value={value.minDurationMs} onChange={(e) => set('minDurationMs', e.target.value)} data-testid="traces-min-ms" aria-label="Minimum duration in ms" />
        <input inputMode="decimal" placeholder="Max ms" value={value.maxDurationMs} onChange={(e) => set('maxDurationMs', e.target.value)} data-testid="traces-max-ms" aria-label="Maximum duration in ms" />
      </div>
    </form>
  );
}
