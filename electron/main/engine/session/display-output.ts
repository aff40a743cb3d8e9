// Display outputs as they come out of a sandbox (a MIME bundle: each type's data as text, the
// binary ones base64) turned into the contract's DisplayOutput (bytes per type).
import { create } from '@bufbuild/protobuf';
import { DisplayOutputSchema, type DisplayOutput } from '../../../../shared/gen/loom/v1/docker_pb';

/** MIME types whose data the sandbox sends base64-encoded. */
const BINARY_MIME = /^image\/(png|jpeg|gif|webp)$/;
/** How a run's display record starts in its span file (resources/trace/python/loom_display.py). */
const DISPLAY_LINE = '{"loom_display":';

export function displayOutputOf(bundle: Record<string, unknown>): DisplayOutput {
  const items = Object.entries(bundle)
    .filter((e): e is [string, string] => typeof e[1] === 'string')
    .map(([mime, data]) => ({ mime, data: BINARY_MIME.test(mime) ? Buffer.from(data, 'base64') : Buffer.from(data, 'utf8') }));
  return create(DisplayOutputSchema, { items });
}

/** A run's display record from its span file, or null for a span (or anything else). */
export function displayLineOf(line: string): DisplayOutput | null {
  if (!line.startsWith(DISPLAY_LINE)) return null;
  try {
    const parsed = JSON.parse(line) as { loom_display?: unknown };
    const bundle = parsed.loom_display;
    return bundle && typeof bundle === 'object' && !Array.isArray(bundle) ? displayOutputOf(bundle as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
