// What a run is doing before and around the program's output: the phase it is in, image pull
// progress per layer, and the package installer's log. A pure reducer over ExecuteEventJson so
// that it can be tested and so that the store can batch events and apply them in one go.
import type { ExecuteEventJson, PhaseJson, PullProgressJson } from '../../../shared/gen/loom/v1/docker_pb';

export type PhaseName = 'image' | 'container' | 'packages' | 'compile' | 'running' | 'done';

export const PHASES: readonly PhaseName[] = ['image', 'container', 'packages', 'compile', 'running', 'done'];

const PHASE_NAMES: Partial<Record<PhaseJson, PhaseName>> = {
  PHASE_IMAGE: 'image',
  PHASE_CONTAINER: 'container',
  PHASE_PACKAGES: 'packages',
  PHASE_COMPILE: 'compile',
  PHASE_RUNNING: 'running',
  PHASE_DONE: 'done',
};

export interface LayerProgress {
  id: string;
  status: string;
  current: number;
  total: number;
  /** Downloading, downloaded (checksum, waiting to extract), or extracting: each has its own current/total. */
  stage: 'download' | 'downloaded' | 'extract';
  done: boolean;
}

export interface PullState {
  image: string;
  layers: LayerProgress[];
  /** The last status line without a layer ("Pulling from …", "Digest: …"). */
  status: string;
}

export interface RunProgress {
  phase?: PhaseName;
  phaseDetail: string;
  /** Phases entered, in order (packages is skipped on warm runs). */
  phasesSeen: PhaseName[];
  pull?: PullState;
  installLog: string[];
  /** Install lines dropped from the front to keep the log bounded. */
  installLogDropped: number;
}

export const MAX_INSTALL_LINES = 2000;

export function emptyProgress(): RunProgress {
  return { phaseDetail: '', phasesSeen: [], installLog: [], installLogDropped: 0 };
}

/** Applies a batch of events; returns the same object when none of them concern progress. */
export function applyProgress(progress: RunProgress, events: readonly ExecuteEventJson[]): RunProgress {
  let next = progress;
  const copy = (): RunProgress => (next === progress ? (next = { ...progress }) : next);
  for (const event of events) {
    if (event.phase) {
      const name = event.phase.phase ? PHASE_NAMES[event.phase.phase] : undefined;
      if (!name) continue;
      const p = copy();
      p.phase = name;
      p.phaseDetail = event.phase.detail ?? '';
      if (!p.phasesSeen.includes(name)) p.phasesSeen = [...p.phasesSeen, name];
    } else if (event.pull) {
      const p = copy();
      p.pull = applyPull(p.pull, event.pull);
    } else if (event.installLog !== undefined) {
      const p = copy();
      const lines = event.installLog.replace(/\r?\n$/, '').split(/\r?\n/);
      let log = [...p.installLog, ...lines];
      if (log.length > MAX_INSTALL_LINES) {
        p.installLogDropped += log.length - MAX_INSTALL_LINES;
        log = log.slice(-MAX_INSTALL_LINES);
      }
      p.installLog = log;
    }
  }
  return next;
}

// "Download complete" is not done: extraction follows.
const DONE_STATUSES = /^(pull complete|already exists)$/i;
const DOWNLOADED_STATUSES = /^(verifying checksum|download complete)$/i;

function stageOf(status: string, before: LayerProgress['stage'] | undefined): LayerProgress['stage'] {
  if (/^extracting/i.test(status)) return 'extract';
  if (DOWNLOADED_STATUSES.test(status)) return 'downloaded';
  if (/^downloading/i.test(status)) return 'download';
  return before ?? 'download';
}

function applyPull(state: PullState | undefined, event: PullProgressJson): PullState {
  const image = event.image ?? state?.image ?? '';
  const layers = state?.layers ?? [];
  // The engine's first message carries the tag where layer messages carry a layer id
  // ({"status": "Pulling from library/python", "id": "3.11-slim"}): a status line, not a layer.
  if (!event.layer || /^pulling from /i.test(event.status ?? '')) return { image, layers, status: event.status ?? state?.status ?? '' };
  const status = event.status ?? '';
  const current = num(event.current);
  const total = num(event.total);
  const index = layers.findIndex((l) => l.id === event.layer);
  const before = index >= 0 ? layers[index] : undefined;
  const layer: LayerProgress = {
    id: event.layer,
    status,
    // Statuses without figures ("Download complete") keep the last ones; "Extracting" starts
    // again at 0 with its own total, which layerFraction places in the second half of the bar.
    current: total > 0 ? current : (before?.current ?? 0),
    total: total > 0 ? total : (before?.total ?? 0),
    stage: stageOf(status, before?.stage),
    done: DONE_STATUSES.test(status),
  };
  const next = index >= 0 ? layers.map((l, i) => (i === index ? layer : l)) : [...layers, layer];
  return { image, layers: next, status: state?.status ?? '' };
}

const num = (v: number | string | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Overall pull progress from 0 to 1 (done layers count as complete), or undefined when unknown. */
export function pullFraction(pull: PullState): number | undefined {
  let current = 0;
  let total = 0;
  for (const layer of pull.layers) {
    if (layer.total <= 0) continue;
    total += layer.total;
    current += layer.total * (layerFraction(layer) ?? 0);
  }
  if (total === 0) return pull.layers.length > 0 && pull.layers.every((l) => l.done) ? 1 : undefined;
  return current / total;
}

/**
 * A layer's progress from 0 to 1: its download is the first half, its extraction the second,
 * so the bar never jumps back when extraction starts counting from 0 again.
 */
export function layerFraction(layer: LayerProgress): number | undefined {
  if (layer.done) return 1;
  if (layer.stage === 'downloaded') return 0.5;
  if (layer.total <= 0) return undefined;
  const part = Math.min(1, layer.current / layer.total) / 2;
  return layer.stage === 'extract' ? 0.5 + part : part;
}
