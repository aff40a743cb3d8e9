// Pure helpers of the session view: a cell's response (proto3 JSON) as what the notebook shows,
// and the HTML frame that renders text/html outputs without scripts or remote loads.
import type { ExecuteResponseJson, FileEntryJson } from '../../../../shared/gen/loom/v1/docker_pb';

export type CellState = 'idle' | 'running' | 'ok' | 'error' | 'timeout' | 'interrupted' | 'restarted' | 'failed';

/** One item of a MIME bundle, ready to render: text for text types, a data URL for images. */
export interface ShownItem {
  mime: string;
  text?: string;
  url?: string;
}

/** The MIME types in the order a bundle is shown by: the richest the window can render. */
const PREFERENCE = ['image/png', 'image/svg+xml', 'text/html', 'application/json', 'text/plain'];

const fromBase64 = (b64: string): string => {
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
};

/** Each display output as the one item to show (and the others, for a tooltip). */
export function shownOutputs(response: ExecuteResponseJson | undefined): ShownItem[] {
  return (response?.outputs ?? []).map((bundle) => {
    const items = bundle.items ?? [];
    const best = PREFERENCE.map((mime) => items.find((i) => i.mime === mime)).find(Boolean) ?? items[0];
    const mime = best?.mime ?? 'text/plain';
    const data = best?.data ?? '';
    if (mime === 'image/png') return { mime, url: `data:image/png;base64,${data}` };
    if (mime === 'image/svg+xml') return { mime, url: `data:image/svg+xml;base64,${data}` };
    return { mime, text: fromBase64(data) };
  });
}

/** The cell's end as the status chip says it. */
export function cellState(response: ExecuteResponseJson | undefined): CellState {
  const status = response?.cell?.status;
  return status === 'ok' || status === 'error' || status === 'timeout' || status === 'interrupted' || status === 'restarted' ? status : 'failed';
}

/**
 * An HTML output as a srcdoc: scripts, forms and remote loads are refused by a CSP on top of the
 * frame's own sandbox (which has no allow-scripts): a table from pandas renders, nothing runs.
 */
export function htmlFrameDoc(html: string): string {
  const csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:";
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><style>body{font:13px system-ui,sans-serif;margin:6px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>${html}</body></html>`;
}

/** A file listing as a tree: each entry with its depth, directories before their contents. */
export function fileTree(entries: FileEntryJson[]): { entry: FileEntryJson; depth: number; name: string }[] {
  return [...entries]
    .sort((a, b) => ((a.path ?? '') < (b.path ?? '') ? -1 : 1))
    .map((entry) => {
      const parts = (entry.path ?? '').split('/');
      return { entry, depth: parts.length - 1, name: parts.at(-1) ?? '' };
    });
}

/** Whether a file can be previewed as text or as an image, by its name. */
export function previewKind(path: string): 'image' | 'text' | null {
  if (/\.(png|jpe?g|gif|svg|webp)$/i.test(path)) return 'image';
  if (/\.(txt|csv|json|md|py|js|ts|log|html|xml|yaml|yml|tsv)$/i.test(path)) return 'text';
  return null;
}

export function imageMime(path: string): string {
  const ext = /\.([a-z]+)$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  return ext === 'svg' ? 'image/svg+xml' : ext === 'jpg' ? 'image/jpeg' : `image/${ext}`;
}
