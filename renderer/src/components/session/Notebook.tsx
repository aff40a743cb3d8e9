// A session as a notebook: cells with their own output (streamed, then the rich outputs),
// execution count and a status that always ends in a terminal state; restart and interrupt.
import { useEffect, useRef, useState } from 'react';
import type { ExecuteResponseJson, SessionInfoJson } from '../../../../shared/gen/loom/v1/docker_pb';
import { errorText, notify } from '../../store/app-store';
import { getClient } from '../../store/client';
import { Icon } from '../ui/Icon';
import { downloadSessionFile } from './files';
import { MimeOutput } from './MimeOutput';
import { cellState, shownOutputs, type CellState } from './session-model';

interface CellModel {
  key: number;
  code: string;
  state: CellState;
  stdout: string;
  stderr: string;
  response?: ExecuteResponseJson;
  /** The id of its current run, to match its live events. */
  runId?: string;
}

const decode = (b64: string | undefined): string => (b64 ? new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))) : '');

let nextKey = 1;
const emptyCell = (): CellModel => ({ key: nextKey++, code: '', state: 'idle', stdout: '', stderr: '' });

export function Notebook({ session, onChanged }: { session: SessionInfoJson; onChanged: () => void }) {
  const [cells, setCells] = useState<CellModel[]>(() => [emptyCell()]);
  const [restarting, setRestarting] = useState(false);
  const restartingRef = useRef<Promise<void> | null>(null);
  const cellsRef = useRef(cells);
  cellsRef.current = cells;
  const sessionId = session.id ?? '';
  const running = cells.some((c) => c.state === 'running');

  const update = (key: number, change: (c: CellModel) => CellModel): void => setCells((all) => all.map((c) => (c.key === key ? change(c) : c)));

  // Live output of the running cell.
  useEffect(
    () =>
      getClient().onEvent((event) => {
        if (event.type !== 'cell.event') return;
        const cell = cellsRef.current.find((c) => c.runId === event.cellId);
        const e = event.event;
        if (!cell || (!('stdout' in e) && !('stderr' in e))) return;
        update(cell.key, (c) => ({ ...c, stdout: c.stdout + decode(e.stdout), stderr: c.stderr + decode(e.stderr) }));
      }),
    [],
  );

  const run = async (key: number): Promise<void> => {
    const cell = cellsRef.current.find((c) => c.key === key);
    if (!cell || running) return;
    const runId = crypto.randomUUID();
    update(key, (c) => ({ ...c, state: 'running', stdout: '', stderr: '', response: undefined, runId }));
    try {
      // A cell run during a restart goes to the new interpreter.
      await restartingRef.current;
      const response = await getClient().runCell(runId, { sessionId, code: cell.code });
      // The response holds the whole output: it replaces what streamed.
      update(key, (c) => ({ ...c, state: cellState(response), response, stdout: decode(response.stdout), stderr: decode(response.stderr) }));
    } catch (err) {
      update(key, (c) => ({ ...c, state: 'failed', stderr: `${c.stderr}${errorText(err)}\n` }));
    }
    setCells((all) => (all.at(-1)?.key === key ? [...all, emptyCell()] : all));
    onChanged();
  };

  const restart = async (): Promise<void> => {
    setRestarting(true);
    const done = getClient()
      .restartSession(sessionId)
      .then(
        () => notify('Restarted: a fresh interpreter, the same files'),
        (err: unknown) => notify(errorText(err), 'error'),
      );
    restartingRef.current = done;
    await done;
    restartingRef.current = null;
    setRestarting(false);
  };

  return (
    <section className="notebook" aria-label="Notebook" data-testid="notebook">
      <div className="notebook-toolbar">
        <span className="faint">Session</span> <code data-testid="session-id">{sessionId}</code>
        <div className="topbar-spacer" />
        <button className="btn" type="button" disabled={!running} onClick={() => void getClient().interruptSession(sessionId).catch((err: unknown) => notify(errorText(err), 'error'))} data-testid="session-interrupt">
          <Icon name="stop" size={13} />
          Interrupt
        </button>
        <button className="btn" type="button" disabled={running || restarting} onClick={() => void restart()} data-testid="session-restart">
          <Icon name="refresh" size={13} />
          Restart
        </button>
      </div>
      <ol className="cells">
        {cells.map((cell) => (
          <li key={cell.key} className={`cell cell-${cell.state}`} data-testid="cell" data-state={cell.state}>
            <div className="cell-gutter num" data-testid="cell-count">
              [{cell.state === 'running' ? '*' : (cell.response?.cell?.executionCount ?? ' ')}]
            </div>
            <div className="cell-body">
              <div className="cell-input-row">
                <textarea
                  className="cell-input"
                  value={cell.code}
                  spellCheck={false}
                  rows={Math.max(2, cell.code.split('\n').length)}
                  placeholder="Code; Shift+Enter runs it"
                  aria-label="Cell code"
                  data-testid="cell-input"
                  onChange={(e) => {
                    const code = e.target.value;
                    update(cell.key, (c) => ({ ...c, code }));
                  }}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' && e.shiftKey) {
                      e.preventDefault();
                      void run(cell.key);
                    }
                  }}
                />
                <button className="btn btn-primary" type="button" disabled={running} onClick={() => void run(cell.key)} data-testid="cell-run" title="Run (Shift+Enter)">
                  <Icon name="play" size={13} />
                </button>
              </div>
              {cell.state !== 'idle' ? <CellOutput cell={cell} sessionId={sessionId} /> : null}
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}

function CellOutput({ cell, sessionId }: { cell: CellModel; sessionId: string }) {
  const outputs = shownOutputs(cell.response);
  const artifacts = cell.response?.artifacts ?? [];
  return (
    <div className="cell-output" data-testid="cell-output">
      {cell.stdout ? <pre className="cell-text">{cell.stdout}</pre> : null}
      {cell.stderr ? <pre className="cell-text cell-stderr">{cell.stderr}</pre> : null}
      {outputs.map((item, i) => (
        <MimeOutput key={i} item={item} />
      ))}
      {artifacts.length ? (
        <ul className="cell-artifacts" aria-label="Artifacts" data-testid="cell-artifacts">
          {artifacts.map((a) => (
            <li key={a.path}>
              <button className="btn" type="button" onClick={() => void downloadSessionFile(sessionId, a.path ?? '').catch((err: unknown) => notify(errorText(err), 'error'))} data-testid="artifact-download">
                {a.path}
              </button>
              <span className="faint num">
                {' '}
                {a.size} bytes · {a.mime}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="cell-status" data-testid="cell-status">
        {cell.state === 'running' ? 'running…' : statusText(cell)}
      </div>
    </div>
  );
}

function statusText(cell: CellModel): string {
  const ms = cell.response?.durationMs;
  const took = typeof ms === 'number' ? ` in ${Math.round(ms)} ms` : '';
  switch (cell.state) {
    case 'ok':
      return `done${took}`;
    case 'error':
      return `error: ${cell.response?.cell?.errorName ?? ''}${took}`;
    case 'timeout':
      return `timed out${took}`;
    case 'interrupted':
      return `interrupted${took}`;
    case 'restarted':
      return `the interpreter was restarted: ${cell.response?.cell?.errorValue ?? ''}`;
    default:
      return 'failed';
  }
}
