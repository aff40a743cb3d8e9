// One hosted MCP server: its config, this window's sessions with it (each one container), its
// tools (tools/list through it), a call with JSON arguments and its result, and recent calls,
// each a link to its `mcp.tool.call` span in the Traces view.
import { useState } from 'react';
import type { HostedCallInfo, HostedServerInfo, HostedToolInfo, HostedToolResult } from '../../../../shared/api';
import { shellQuote } from '../../lib/shell-words';
import { formatAge, formatMs } from '../../lib/format';
import { errorText, notify, useApp } from '../../store/app-store';
import { getClient } from '../../store/client';
import { openTrace } from '../../store/ui-actions';
import { Icon } from '../ui/Icon';
import { Spinner } from '../ui/Spinner';
import { argumentsSkeleton } from './hosted-form';

interface Props {
  server: HostedServerInfo;
  calls: HostedCallInfo[];
  now: number;
  onChanged: () => void;
}

export function HostedServerCard({ server, calls, now, onChanged }: Props) {
  const [tools, setTools] = useState<HostedToolInfo[] | null>(null);
  const [busy, setBusy] = useState<'tools' | 'remove' | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const shown = tools ?? (server.tools.length ? server.tools : null);
  const tool = shown?.find((t) => t.name === selected);

  const loadTools = async (): Promise<void> => {
    setBusy('tools');
    try {
      setTools(await getClient().listHostedTools(server.name));
    } catch (err) {
      notify(`Listing the tools of ${server.name} failed: ${errorText(err)}`, 'error');
    } finally {
      setBusy(null);
      onChanged();
    }
  };

  const remove = async (): Promise<void> => {
    setBusy('remove');
    try {
      await getClient().removeHostedServer(server.name);
      notify(`Removed the MCP server ${server.name} and its containers`);
    } catch (err) {
      notify(`Removing ${server.name} failed: ${errorText(err)}`, 'error');
    } finally {
      setBusy(null);
      useApp.setState((s) => ({ poolVersion: s.poolVersion + 1 }));
      onChanged();
    }
  };

  return (
    <article className="hosted-server" aria-label={`MCP server ${server.name}`} data-testid="hosted-server" data-server={server.name}>
      <div className="hosted-server-head">
        <strong data-testid="hosted-server-name">{server.name}</strong>
        <span className="mono faint hosted-command" title={server.command.map(shellQuote).join(' ')}>
          {server.image} · {server.command.map(shellQuote).join(' ')}
        </span>
        <span className="badge badge-outline" title="The container's network">
          net {server.network}
        </span>
        <div className="toolbar-spacer" />
        <button type="button" className="btn btn-sm" disabled={busy !== null} onClick={() => void loadTools()} title="tools/list through the server (starts this window's container for it)" data-testid="hosted-list-tools">
          {busy === 'tools' ? <Spinner size={13} /> : <Icon name="refresh" size={13} />}
          {shown ? 'Reload tools' : 'List tools'}
        </button>
        <button type="button" className="btn btn-sm btn-danger" disabled={busy !== null} onClick={() => void remove()} title="Take it out of the servers file and remove its containers" data-testid="hosted-remove">
          {busy === 'remove' ? <Spinner size={13} /> : <Icon name="trash" size={13} />}
          Remove
        </button>
      </div>

      <div className="hosted-sessions">
        {server.sessions.length === 0 ? (
          <span className="faint">No session: a container starts at the first tools/list or call, and is removed after {Math.round(server.idleTtlSeconds / 60)} min idle.</span>
        ) : (
          server.sessions.map((s) => (
            <span key={s.id} className="badge badge-outline" data-testid="hosted-session" data-container-id={s.containerId ?? ''} title={`Session ${s.id}${s.containerName ? ` in ${s.containerName}` : ''}`}>
              session · container {s.containerId ? s.containerId.slice(0, 12) : 'starting'} · {s.calls} call{s.calls === 1 ? '' : 's'} · idle {formatAge(s.lastUsedMs, now)}
            </span>
          ))
        )}
      </div>

      {shown ? (
        <div className="hosted-tools" role="list" aria-label={`Tools of ${server.name}`}>
          {shown.map((t) => (
            <button
              key={t.name}
              type="button"
              role="listitem"
              className={`hosted-tool${t.name === selected ? ' is-selected' : ''}`}
              onClick={() => setSelected(t.name === selected ? null : t.name)}
              title={t.description}
              data-testid="hosted-tool"
              data-tool={t.name}
            >
              <code>{t.name}</code>
              {t.description ? <span className="faint">{t.description}</span> : null}
            </button>
          ))}
        </div>
      ) : null}

      {tool ? <ToolCall key={tool.name} server={server.name} tool={tool} onCalled={onChanged} /> : null}

      {calls.length ? (
        <table className="pool-table hosted-calls" aria-label={`Calls of ${server.name}`}>
          <thead>
            <tr>
              <th scope="col">Tool</th>
              <th scope="col">When</th>
              <th scope="col">Duration</th>
              <th scope="col">Result</th>
              <th scope="col">Trace</th>
            </tr>
          </thead>
          <tbody>
            {calls.map((c) => (
              <tr key={c.spanId} data-testid="hosted-call-row" data-trace-id={c.traceId}>
                <td>
                  <code>{c.tool}</code>
                </td>
                <td className="num">{formatAge(c.startedAtMs, now)} ago</td>
                <td className="num">{formatMs(c.durationMs)}</td>
                <td>{c.isError ? <span className="hosted-error-text">error</span> : 'ok'}</td>
                <td>
                  <button type="button" className="btn btn-ghost btn-sm" onClick={() => openTrace(c.traceId)} data-testid="hosted-call-trace">
                    {c.traceId.slice(0, 8)}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </article>
  );
}

function ToolCall({ server, tool, onCalled }: { server: string; tool: HostedToolInfo; onCalled: () => void }) {
  const [args, setArgs] = useState(() => argumentsSkeleton(tool.inputSchema));
  const [result, setResult] = useState<HostedToolResult | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const call = async (): Promise<void> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(args);
    } catch (err) {
      setProblem(`arguments: not JSON: ${errorText(err)}`);
      return;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      setProblem('arguments: must be a JSON object');
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      setResult(await getClient().callHostedTool(server, tool.name, parsed as Record<string, unknown>));
    } catch (err) {
      setResult(null);
      setProblem(errorText(err));
    } finally {
      setBusy(false);
      onCalled();
    }
  };

  return (
    <div className="hosted-call" data-testid="hosted-call-form" data-tool={tool.name}>
      <label>
        <span>
          Arguments of <code>{tool.name}</code> (JSON)
        </span>
        <textarea className="input mono" rows={4} value={args} onChange={(e) => setArgs(e.target.value)} spellCheck={false} data-testid="hosted-args" />
      </label>
      <div className="hosted-form-actions">
        <button type="button" className="btn btn-primary btn-sm" disabled={busy} onClick={() => void call()} data-testid="hosted-call">
          {busy ? <Spinner size={13} /> : <Icon name="play" size={13} />}
          Call
        </button>
      </div>
      {problem ? (
        <div className="pool-error" role="alert" data-testid="hosted-call-error">
          <Icon name="alert" size={14} />
          {problem}
        </div>
      ) : null}
      {result ? (
        <div className={`hosted-result${result.isError ? ' is-error' : ''}`} data-testid="hosted-result" data-is-error={String(result.isError)}>
          <div className="hosted-result-head">
            <strong>{result.isError ? 'The tool reported an error' : 'Result'}</strong>
            <span className="faint num">{formatMs(result.durationMs)}</span>
            <div className="toolbar-spacer" />
            <button type="button" className="btn btn-ghost btn-sm" onClick={() => openTrace(result.traceId)} data-testid="hosted-result-trace">
              <Icon name="layers" size={13} />
              Open trace
            </button>
          </div>
          {result.content.map((c, i) =>
            c.type === 'text' ? (
              <pre key={i} className="mono hosted-result-text" data-testid="hosted-result-text">
                {c.text}
              </pre>
            ) : c.type === 'image' && c.data && c.mimeType?.startsWith('image/') ? (
              <img key={i} className="hosted-result-image" alt={`image ${i + 1} of the result`} src={`data:${c.mimeType};base64,${c.data}`} />
            ) : (
              <pre key={i} className="mono hosted-result-text">
                {JSON.stringify(c, null, 2)}
              </pre>
            ),
          )}
          {result.structuredContent ? <pre className="mono hosted-result-text">{JSON.stringify(result.structuredContent, null, 2)}</pre> : null}
        </div>
      ) : null}
    </div>
  );
}
