// Progress lines on stderr while `loom exec` prepares a container: image pull (a line when a
// layer's status changes, not one per byte event, plus an overall download percentage at most
// once a second) and the package installer's output.
import { Phase, type ExecuteEvent, type PullProgress } from '../../../shared/gen/loom/v1/docker_pb';
import { megabytes } from './format';

export interface ProgressOptions {
  write: (line: string) => void;
  /** Minimum time between two percentage lines. */
  intervalMs?: number;
  now?: () => number;
}

export class ProgressReporter {
  private readonly pulling = new Set<string>();
  private readonly layerStatus = new Map<string, string>();
  private readonly layerBytes = new Map<string, { current: number; total: number }>();
  private lastPercentAt = 0;
  private lastPercent = -1;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: ProgressOptions) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  onEvent(event: ExecuteEvent): void {
    switch (event.event.case) {
      case 'pull':
        this.onPull(event.event.value);
        break;
      case 'installLog':
        this.opts.write(`  ${event.event.value}`);
        break;
      case 'phase': {
        const { phase, detail } = event.event.value;
        if (phase === Phase.PACKAGES) this.opts.write(`installing packages: ${detail}`);
        break;
      }
      default:
        break;
    }
  }

  private onPull(p: PullProgress): void {
    if (!this.pulling.has(p.image)) {
      this.pulling.add(p.image);
      this.opts.write(`pulling ${p.image}`);
    }
    // Events without a layer, and the first one (whose id is the tag): "Pulling from ...", "Digest: ...", "Status: ...".
    if (!p.layer || p.status.startsWith('Pulling from')) {
      this.opts.write(`  ${p.status}`);
      return;
    }
    if (this.layerStatus.get(p.layer) !== p.status) {
      this.layerStatus.set(p.layer, p.status);
      this.opts.write(`  ${p.layer.slice(0, 12)}: ${p.status}`);
    }
    if (p.status === 'Downloading' && p.total > 0) {
      this.layerBytes.set(p.layer, { current: p.current, total: p.total });
      this.maybePercent();
    } else if (p.status === 'Download complete' || p.status === 'Pull complete') {
      const b = this.layerBytes.get(p.layer);
      if (b) b.current = b.total;
    }
  }

  private maybePercent(): void {
    const now = this.now();
    if (now - this.lastPercentAt < this.intervalMs) return;
    let current = 0;
    let total = 0;
    for (const b of this.layerBytes.values()) {
      current += b.current;
      total += b.total;
    }
    if (total === 0) return;
    const percent = Math.floor((current / total) * 100);
    if (percent === this.lastPercent) return;
    this.lastPercentAt = now;
    this.lastPercent = percent;
    this.opts.write(`  downloading: ${percent}% (${megabytes(current)} of ${megabytes(total)})`);
  }
}
