// A small meter: a value against its limit, coloured as it nears the limit.
export function UsageBar({ fraction, label }: { fraction: number | undefined; label: string }) {
  if (fraction === undefined || !Number.isFinite(fraction)) return <span className="usage-bar empty" aria-hidden="true" />;
  const f = Math.max(0, Math.min(1, fraction));
  const tone = f >= 0.9 ? 'err' : f >= 0.7 ? 'warn' : 'ok';
  return (
    <span className={`usage-bar tone-${tone}`} role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(f * 100)}>
      <span className="usage-fill" style={{ width: `${f * 100}%` }} />
    </span>
  );
}
