// Sessions: the user's sessions (new, pick, close) beside the picked one's notebook and files.
import { useCallback, useEffect, useState } from 'react';
import type { SessionInfoJson } from '../../../../shared/gen/loom/v1/docker_pb';
import { useNow } from '../../hooks/useNow';
import { errorText, notify } from '../../store/app-store';
import { getClient } from '../../store/client';
import { Icon } from '../ui/Icon';
import { FilesPanel } from './FilesPanel';
import { Notebook } from './Notebook';
import './Session.css';

const ago = (ms: number, now: number): string => {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
};

export function SessionsPage() {
  const [sessions, setSessions] = useState<SessionInfoJson[] | null>(null);
  const [current, setCurrent] = useState<string | null>(null);
  const [runtime, setRuntime] = useState<'python' | 'node'>('python');
  const [image, setImage] = useState('');
  const [creating, setCreating] = useState(false);
  const [filesVersion, setFilesVersion] = useState(0);
  const now = useNow(1000);

  const refresh = useCallback(() => {
    getClient()
      .listSessions()
      .then(setSessions, (err: unknown) => notify(errorText(err), 'error'));
  }, []);
  useEffect(() => {
    refresh();
    return getClient().onEvent((e) => {
      if (e.type === 'sessions.changed') refresh();
    });
  }, [refresh]);

  const create = async (): Promise<void> => {
    setCreating(true);
    try {
      const info = await getClient().createSession({
        runtimeType: runtime === 'node' ? 'RUNTIME_TYPE_NODE' : 'RUNTIME_TYPE_PYTHON',
        config: image.trim() ? { baseImage: image.trim() } : {},
      });
      setCurrent(info.id ?? null);
    } catch (err) {
      notify(errorText(err), 'error');
    } finally {
      setCreating(false);
    }
  };

  const close = async (id: string): Promise<void> => {
    try {
      await getClient().closeSession(id);
      if (current === id) setCurrent(null);
    } catch (err) {
      notify(errorText(err), 'error');
    }
  };

  const picked = sessions?.find((s) => s.id === current);
  return (
    <main className="session-page" aria-label="Sessions" data-testid="session-page">
      <aside className="session-list">
        <div className="session-new">
          <select value={runtime} onChange={(e) => setRuntime(e.target.value === 'node' ? 'node' : 'python')} aria-label="Session runtime" data-testid="session-runtime">
            <option value="python">Python</option>
            <option value="node">Node</option>
          </select>
          <input value={image} onChange={(e) => setImage(e.target.value)} placeholder="image (default)" aria-label="Session image" data-testid="session-image" />
          <button className="btn btn-primary" type="button" disabled={creating} onClick={() => void create()} data-testid="session-new">
            <Icon name="plus" size={13} />
            {creating ? 'Starting…' : 'New session'}
          </button>
        </div>
        <ul>
          {(sessions ?? []).map((s) => (
            <li key={s.id} className={`session-item${s.id === current ? ' selected' : ''}`} data-testid="session-item">
              <button className="link" type="button" onClick={() => setCurrent(s.id ?? null)}>
                <code>{s.id?.slice(0, 8)}</code> {s.runtimeType === 'RUNTIME_TYPE_NODE' ? 'Node' : 'Python'}
              </button>
              <span className="faint num" title="age · idle · TTL">
                {ago(Number(s.createdAtMs ?? now), now)} · idle {ago(Number(s.lastUsedAtMs ?? now), now)} · TTL {Math.round((s.idleTtlSeconds ?? 0) / 60)}m
              </span>
              <button className="btn btn-icon" type="button" aria-label={`Close session ${s.id}`} onClick={() => void close(s.id ?? '')}>
                <Icon name="trash" size={12} />
              </button>
            </li>
          ))}
        </ul>
        {sessions?.length === 0 ? <p className="faint">No sessions. A session keeps its variables and files between cells, in its own container.</p> : null}
      </aside>
      {picked ? (
        <>
          <Notebook key={picked.id} session={picked} onChanged={() => setFilesVersion((v) => v + 1)} />
          <FilesPanel sessionId={picked.id ?? ''} version={filesVersion} />
        </>
      ) : (
        <div className="session-empty faint">Create a session, or pick one.</div>
      )}
    </main>
  );
}
