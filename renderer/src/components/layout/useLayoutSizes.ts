// Pane sizes the user dragged, remembered across reloads.
import { useCallback, useState } from 'react';
import { loadJson, saveJson } from '../../store/persist';

export interface LayoutSizes {
  sidebar: number;
  form: number;
  /** Height of the results panel under the editor. */
  panel: number;
}

const DEFAULTS: LayoutSizes = { sidebar: 264, form: 328, panel: 320 };

const isSizes = (v: unknown): v is LayoutSizes =>
  typeof v === 'object' && v !== null && ['sidebar', 'form', 'panel'].every((k) => typeof (v as Record<string, unknown>)[k] === 'number');

export function useLayoutSizes(): [LayoutSizes, (patch: Partial<LayoutSizes>) => void] {
  const [sizes, setSizes] = useState<LayoutSizes>(() => ({ ...DEFAULTS, ...loadJson('layout', isSizes) }));
  const update = useCallback((patch: Partial<LayoutSizes>) => {
    setSizes((prev) => {
      const next = { ...prev, ...patch };
      saveJson('layout', next);
      return next;
    });
  }, []);
  return [sizes, update];
}
