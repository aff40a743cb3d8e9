// The pool manager's hosted MCP servers: declared in the servers file or added here, each with
// its sessions (one container each), its tools and its calls (see HostedServerCard).
import { useState } from 'react';
import { LoomApiError } from '../../../../shared/api';
import { errorText, notify } from '../../store/app-store';
import { getClient } from '../../store/client';
import { Icon } from '../ui/Icon';
import { Spinner } from '../ui/Spinner';
import { HostedServerCard } from './HostedServerCard';
import { configOf, EXAMPLE_FORM, HostedFormError, type HostedForm } from './hosted-form';
import { useHostedServers } from './useHostedServers';

export function HostedServers({ now }: { now: number }) {
  const { view, error, refresh } = useHostedServers();
  const [adding, setAdding] = useState(false);
  const servers = view?.servers ?? [];
  return (
    <section className="pool-group hosted" aria-label="Hosted MCP servers" data-testid="hosted-servers">
      <header className="pool-group-head">
        <Icon name="layers" size={14} />
        <strong>Hosted MCP servers</strong>
        {view ? (
          <span className="pool-config mono faint" title={`Declared in ${view.file} (loom mcp reads it too)`}>
            {view.file}
          </span>
        ) : null}
        <div className="toolbar-spacer" />
        <button type="button" className="btn btn-sm" onClick={() => setAdding((a) => !a)} aria-expanded={adding} data-testid="hosted-add-toggle">
          <Icon name={adding ? 'x' : 'plus'} size={13} />
          {adding ? 'Cancel' : 'Add server'}
        </button>
      </header>
      {error ? (
        <div className="pool-error" role="alert">
          <Icon name="alert" size={14} />
          Could not list hosted servers: {error}
        </div>
      ) : null}
      {view?.fileError ? (
        <div className="pool-error" role="alert" data-testid="hosted-file-error">
          <Icon name="alert" size={14} />
          {view.file} is not used until it is fixed: {view.fileError}
        </div>
      ) : null}
      {adding ? (
        <AddServerForm
          onAdded={() => {
            setAdding(false);
            refresh();
          }}
        />
      ) : null}
      {view && servers.length === 0 && !adding ? (
        <p className="hosted-empty faint">No MCP servers declared. Add one to run it in a locked-down container, one per client session.</p>
      ) : null}
      {servers.map((s) => (
        <HostedServerCard key={s.name} server={s} calls={(view?.calls ?? []).filter((c) => c.server === s.name)} now={now} onChanged={refresh} />
      ))}
    </section>
  );
}

function AddServerForm({ onAdded }: { onAdded: () => void }) {
  const [form, setForm] = useState<HostedForm>(EXAMPLE_FORM);
  const [problem, setProblem] = useState<{ field: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (field: keyof HostedForm) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [field]: e.target.value }));
  const invalid = (field: string): boolean => problem !== null && (problem.field === `server.${field}` || problem.field.startsWith(`server.${field}.`) || problem.field.startsWith(`server.${field}[`));

  const submit = async (): Promise<void> => {
    setBusy(true);
    try {
      const added = await getClient().addHostedServer(configOf(form));
      setProblem(null);
      notify(`Declared the MCP server ${added.name}`);
      onAdded();
    } catch (err) {
      const field = err instanceof HostedFormError ? err.field : err instanceof LoomApiError && typeof err.fields['field'] === 'string' ? err.fields['field'] : '';
      setProblem({ field, message: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="hosted-form"
      aria-label="Add an MCP server"
      data-testid="hosted-add-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label>
        <span>Name</span>
        <input className="input mono" value={form.name} onChange={set('name')} aria-invalid={invalid('name')} data-testid="hosted-field-name" />
      </label>
      <label>
        <span>Image</span>
        <input className="input mono" value={form.image} onChange={set('image')} aria-invalid={invalid('image')} data-testid="hosted-field-image" />
      </label>
      <label className="hosted-wide">
        <span>Command</span>
        <input className="input mono" value={form.command} onChange={set('command')} aria-invalid={invalid('command')} data-testid="hosted-field-command" title="The server's argv, split as sh would (no shell runs it)" />
      </label>
      <label>
        <span>Network</span>
        <select className="input" value={form.network} onChange={set('network')} data-testid="hosted-field-network">
          <option value="none">none</option>
          <option value="bridge">bridge</option>
        </select>
      </label>
      <label>
        <span>Secrets</span>
        <input className="input mono" value={form.secrets} onChange={set('secrets')} aria-invalid={invalid('secrets')} placeholder="GITHUB_TOKEN" title="Names of variables of Loom's environment: their values go into the container's environment only" data-testid="hosted-field-secrets" />
      </label>
      <label className="hosted-wide">
        <span>Environment</span>
        <textarea className="input mono" rows={2} value={form.env} onChange={set('env')} aria-invalid={invalid('env')} placeholder="KEY=VALUE, one a line" data-testid="hosted-field-env" />
      </label>
      {problem ? (
        <div className="pool-error hosted-wide" role="alert" data-testid="hosted-add-error" data-field={problem.field}>
          <Icon name="alert" size={14} />
          {problem.message}
        </div>
      ) : null}
      <div className="hosted-wide hosted-form-actions">
        <button type="submit" className="btn btn-primary btn-sm" disabled={busy} data-testid="hosted-add-submit">
          {busy ? <Spinner size={13} /> : <Icon name="plus" size={13} />}
          Add
        </button>
      </div>
    </form>
  );
}
