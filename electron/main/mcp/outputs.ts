// What a run or a cell leaves for the caller besides its output, as MCP content: display outputs
// (MIME bundles) as image or text items, and artifacts (files under the output directory) with
// their bytes up to a cap, as image items or embedded resources. Past the cap an artifact is
// still listed, with a note saying why its bytes are not there: never dropped silently.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Artifact, DisplayOutput } from '../../../shared/gen/loom/v1/docker_pb';
import { formatBytes } from '../engine/session/workspace-files';

/** Bytes of one artifact carried in a result; a bigger one is listed without them. */
export const MAX_INLINE_ARTIFACT_BYTES = 1024 * 1024;
/** Bytes of all the artifacts of one result together; those past it are listed without them. */
export const MAX_INLINE_ARTIFACTS_BYTES = 4 * 1024 * 1024;

type Content = CallToolResult['content'][number];

/** Image types a client can show (the display outputs' binary types, and SVG). */
const IMAGE_MIME = /^image\/(png|jpeg|gif|webp|svg\+xml)$/;
const TEXT_MIME = /^(text\/|application\/(json|xml|javascript)$|image\/svg\+xml$)/;
/** Which item of a display output stands for it as text, in order of preference. */
const TEXT_PREFERENCE = ['text/plain', 'application/json', 'text/markdown', 'text/html'];

export const outputSchema = z.object({
  items: z.array(
    z.object({
      mimeType: z.string(),
      sizeBytes: z.number(),
      text: z.string().optional().describe('The data of a text type (text/plain, text/html, application/json, image/svg+xml).'),
    }),
  ),
});

export const artifactSchema = z.object({
  path: z.string().describe('Relative to /tmp, e.g. "outputs/plot.png".'),
  mimeType: z.string(),
  sizeBytes: z.number(),
  included: z.boolean().describe("Whether the file's bytes are in the result's content (an image item or an embedded resource)."),
  note: z.string().optional().describe('Why the bytes are not included, when they are not.'),
});

export type OutputJson = z.output<typeof outputSchema>;
export type ArtifactJson = z.output<typeof artifactSchema>;

/**
 * The artifacts' bytes as a run delivers them (ExecuteOptions.onArtifact) or a session's files
 * give them: kept up to the caps, each over them noted.
 */
export class ArtifactBytes {
  private readonly kept = new Map<string, Buffer>();
  private readonly notes = new Map<string, string>();
  private total = 0;

  constructor(private readonly hint = '') {}

  /** ExecuteOptions.onArtifact: reads what fits, lets go of the rest (the stream is closed). */
  readonly take = async (artifact: Artifact, content: AsyncIterable<Buffer>): Promise<void> => {
    const size = Number(artifact.size);
    const over = this.overCap(size);
    if (over) {
      this.notes.set(artifact.path, over);
      // Entering the stream and leaving it at once closes its exec (one never entered stays open).
      for await (const _chunk of content) break;
      return;
    }
    const parts: Buffer[] = [];
    for await (const chunk of content) parts.push(chunk);
    const data = Buffer.concat(parts);
    this.total += data.byteLength;
    this.kept.set(artifact.path, data);
  };

  /** Whether an artifact of this size fits: undefined if so, else why not. */
  overCap(size: number): string | undefined {
    if (size > MAX_INLINE_ARTIFACT_BYTES) return `not included: ${formatBytes(size)} is over the ${formatBytes(MAX_INLINE_ARTIFACT_BYTES)} cap per artifact${this.hint}`;
    if (this.total + size > MAX_INLINE_ARTIFACTS_BYTES) return `not included: the artifacts of this call are over the ${formatBytes(MAX_INLINE_ARTIFACTS_BYTES)} cap together${this.hint}`;
    return undefined;
  }

  note(path: string, note: string): void {
    this.notes.set(path, note);
  }

  of(path: string): { data?: Buffer; note?: string } {
    const data = this.kept.get(path);
    if (data) return { data };
    return { note: this.notes.get(path) ?? `not included: its bytes were not delivered${this.hint}` };
  }
}

/** Display outputs as content (an image, else the text that says most) and as structured data. */
export function displayContent(outputs: DisplayOutput[]): { content: Content[]; structured: OutputJson[] } {
  const content: Content[] = [];
  const structured: OutputJson[] = [];
  outputs.forEach((output, i) => {
    structured.push({
      items: output.items.map((item) => ({
        mimeType: item.mime,
        sizeBytes: item.data.byteLength,
        ...(TEXT_MIME.test(item.mime) ? { text: Buffer.from(item.data).toString('utf8') } : {}),
      })),
    });
    const image = output.items.find((item) => item.mime === 'image/png') ?? output.items.find((item) => IMAGE_MIME.test(item.mime));
    if (image) {
      content.push({ type: 'image', data: Buffer.from(image.data).toString('base64'), mimeType: image.mime });
      return;
    }
    const text = TEXT_PREFERENCE.map((mime) => output.items.find((item) => item.mime === mime)).find((item) => item !== undefined);
    if (text) content.push({ type: 'text', text: `output ${i + 1} (${text.mime}):\n${Buffer.from(text.data).toString('utf8')}` });
  });
  return { content, structured };
}

/** Artifacts as content (their bytes where kept) and as structured data; one text line lists them all. */
export function artifactContent(artifacts: Artifact[], bytes: ArtifactBytes, uriBase: string): { content: Content[]; structured: ArtifactJson[] } {
  const content: Content[] = [];
  const structured: ArtifactJson[] = [];
  const lines: string[] = [];
  for (const artifact of artifacts) {
    const { data, note } = bytes.of(artifact.path);
    const sizeBytes = Number(artifact.size);
    structured.push({ path: artifact.path, mimeType: artifact.mime, sizeBytes, included: data !== undefined, ...(note && !data ? { note } : {}) });
    lines.push(`${artifact.path} (${formatBytes(sizeBytes)}, ${artifact.mime})${data ? '' : `: ${note}`}`);
    if (!data) continue;
    if (IMAGE_MIME.test(artifact.mime)) {
      content.push({ type: 'image', data: data.toString('base64'), mimeType: artifact.mime });
      continue;
    }
    const uri = `${uriBase}/${artifact.path.split('/').map(encodeURIComponent).join('/')}`;
    const text = TEXT_MIME.test(artifact.mime) ? data.toString('utf8') : undefined;
    // Text that is not UTF-8 goes as bytes, never mangled.
    const isText = text !== undefined && Buffer.from(text, 'utf8').equals(data);
    content.push({ type: 'resource', resource: isText ? { uri, mimeType: artifact.mime, text } : { uri, mimeType: artifact.mime, blob: data.toString('base64') } });
  }
  if (lines.length) content.unshift({ type: 'text', text: `artifacts:\n${lines.join('\n')}` });
  return { content, structured };
}
