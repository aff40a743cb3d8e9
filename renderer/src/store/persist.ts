// What survives a reload: the theme, layout sizes and the work in progress (code per runtime,
// form, stdin). localStorage can be missing, full or hold garbage from an older version, so
// every read is checked and every failure falls back to defaults.
import { emptyForm, type FormState, type Runtime } from '../lib/form-state';
import { DEFAULT_ISOLATION, ISOLATIONS } from '../../../shared/isolation';
import { RUNTIMES } from '../../../shared/runtimes';

const PREFIX = 'loom.';

export function loadJson<T>(key: string, check: (value: unknown) => value is T): T | undefined {
  try {
    const raw = globalThis.localStorage?.getItem(PREFIX + key);
    if (raw == null) return undefined;
    const value: unknown = JSON.parse(raw);
    return check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function saveJson(key: string, value: unknown): void {
  try {
    globalThis.localStorage?.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // Quota or privacy mode: losing a draft is better than breaking the app.
  }
}

export interface SavedDraft {
  runtime: Runtime;
  codeByRuntime: Record<Runtime, string>;
  stdin: string;
  form: FormState;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRuntime = (v: unknown): v is Runtime => typeof v === 'string' && (RUNTIMES as readonly string[]).includes(v);

export function isSavedDraft(v: unknown): v is SavedDraft {
  if (!isObject(v) || !isRuntime(v['runtime']) || typeof v['stdin'] !== 'string') return false;
  const code = v['codeByRuntime'];
  // Runtimes added since the draft was saved get their sample (see the store's load).
  if (!isObject(code) || !['python', 'node', 'custom'].every((r) => typeof code[r] === 'string')) return false;
  return isObject(v['form']);
}

/** A stored form merged over the defaults, so fields added since it was saved get their default. */
export function reviveForm(saved: unknown, runtime: Runtime): FormState {
  const form = emptyForm(runtime);
  if (!isObject(saved)) return form;
  for (const key of Object.keys(form) as (keyof FormState)[]) {
    const value = saved[key];
    if (value !== undefined && typeof value === typeof form[key] && Array.isArray(value) === Array.isArray(form[key])) {
      (form as unknown as Record<string, unknown>)[key] = value;
    }
  }
  if (!ISOLATIONS.includes(form.isolation)) form.isolation = DEFAULT_ISOLATION;
  form.packages = form.packages.filter((p): p is string => typeof p === 'string');
  form.env = form.env.filter((r) => isObject(r) && typeof r.name === 'string' && typeof r.value === 'string' && typeof r.id === 'number');
  return form;
}
