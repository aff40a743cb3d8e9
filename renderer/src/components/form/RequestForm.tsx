// The request form: everything about the run except the code itself. Each field shows the
// engine's default as its placeholder, and its problem (if any) as the user types.
import { defaultImage, DEFAULT_LIFECYCLE, DEFAULT_LIMITS } from '../../../../shared/defaults';
import { DEFAULT_ISOLATION, type Isolation } from '../../../../shared/isolation';
import type { NetworkChoice } from '../../lib/form-state';
import { useApp } from '../../store/app-store';
import { updateForm } from '../../store/draft-actions';
import { useFormErrors } from '../../store/selectors';
import { Segmented } from '../ui/Segmented';
import { CopyAsButton } from './CopyAsButton';
import { EnvRows } from './EnvRows';
import { Field } from './Field';
import { FormSection } from './FormSection';
import { PackageInput } from './PackageInput';
import { TextField } from './TextField';
import './RequestForm.css';

const NETWORKS = [
  { value: 'none', label: 'None', testId: 'network-none', title: 'No network at all (the default)' },
  { value: 'bridge', label: 'Bridge', testId: 'network-bridge', title: 'The container can reach the network' },
] as const;

const ISOLATIONS = [
  { value: 'runc', label: 'runc', testId: 'isolation-runc', title: 'Docker’s default runtime: namespaces, cgroups and seccomp on the host kernel (the default)' },
  { value: 'gvisor', label: 'gVisor', testId: 'isolation-gvisor', title: 'gVisor (runsc): a user-space kernel between the program and the host; the engine must have runsc' },
] as const;

export function RequestForm() {
  const form = useApp((s) => s.form);
  const runtime = useApp((s) => s.runtime);
  const errors = useFormErrors();
  const has = (...keys: string[]): boolean => keys.some((k) => errors[k] !== undefined);
  const problems = Object.keys(errors).length;
  const imagePlaceholder = runtime === 'custom' ? 'registry/name:tag (required)' : defaultImage(runtime);

  return (
    <aside className="request-form" aria-label="Request">
      <div className="panel-header form-header">
        <h2 className="form-title">Request</h2>
        {problems > 0 ? (
          <span className="badge badge-err" data-testid="form-problems" role="status">
            {problems} problem{problems === 1 ? '' : 's'}
          </span>
        ) : null}
        <div className="toolbar-spacer" />
        <CopyAsButton disabled={problems > 0} />
      </div>
      <form className="form-body" onSubmit={(e) => e.preventDefault()} noValidate>
        <FormSection id="container" title="Container" invalid={has('image', 'command', 'packageDraft') || Object.keys(errors).some((k) => k.startsWith('packages'))}>
          <TextField
            label={runtime === 'custom' ? 'Image' : 'Base image'}
            value={form.image}
            onChange={(image) => updateForm({ image })}
            error={errors['image']}
            placeholder={imagePlaceholder}
            mono
            testId="field-image"
          />
          {runtime === 'custom' ? (
            <TextField
              label="Command"
              value={form.command}
              onChange={(command) => updateForm({ command })}
              error={errors['command']}
              placeholder="python3 -c"
              hint="The editor's code is passed as the last argument"
              mono
              testId="field-command"
            />
          ) : null}
          <PackageInput errors={errors} />
        </FormSection>

        <FormSection id="limits" title="Limits" invalid={has('cpuCores', 'memoryMb', 'storageMb', 'pidsLimit', 'timeoutSeconds')}>
          <div className="field-grid">
            <TextField label="CPU" unit="cores" value={form.cpuCores} onChange={(cpuCores) => updateForm({ cpuCores })} error={errors['cpuCores']} placeholder={String(DEFAULT_LIMITS.cpuCores)} numeric="decimal" testId="field-cpus" />
            <TextField label="Memory" unit="MB" value={form.memoryMb} onChange={(memoryMb) => updateForm({ memoryMb })} error={errors['memoryMb']} placeholder={String(DEFAULT_LIMITS.memoryMb)} numeric="numeric" testId="field-memory" />
            <TextField label="Storage (/tmp)" unit="MB" value={form.storageMb} onChange={(storageMb) => updateForm({ storageMb })} error={errors['storageMb']} placeholder={String(DEFAULT_LIMITS.storageMb)} numeric="numeric" testId="field-storage" />
            <TextField label="Processes" unit="pids" value={form.pidsLimit} onChange={(pidsLimit) => updateForm({ pidsLimit })} error={errors['pidsLimit']} placeholder={String(DEFAULT_LIMITS.pidsLimit)} numeric="numeric" testId="field-pids" />
            <TextField label="Timeout" unit="s" value={form.timeoutSeconds} onChange={(timeoutSeconds) => updateForm({ timeoutSeconds })} error={errors['timeoutSeconds']} placeholder={String(DEFAULT_LIMITS.executionTimeoutSeconds)} numeric="numeric" testId="field-timeout" />
          </div>
        </FormSection>

        <FormSection id="network" title="Network" summary={form.network}>
          <Field label="Network access" hint={form.network === 'none' ? 'No interface but loopback: the safe default' : 'Outbound access through Docker’s bridge'}>
            {({ describedBy }) => (
              <div aria-describedby={describedBy}>
                <Segmented label="Network" value={form.network} options={NETWORKS} onChange={(network: NetworkChoice) => updateForm({ network })} testId="field-network" />
              </div>
            )}
          </Field>
        </FormSection>

        <FormSection id="isolation" title="Isolation" summary={form.isolation === DEFAULT_ISOLATION ? `${form.isolation} (default)` : form.isolation}>
          <Field
            label="Runtime boundary"
            hint={
              form.isolation === 'gvisor'
                ? 'gVisor’s user-space kernel stands between the program and the host; slower to start, and the engine must have runsc (loom doctor)'
                : `Default: ${DEFAULT_ISOLATION}, the host kernel behind namespaces, cgroups and seccomp`
            }
          >
            {({ describedBy }) => (
              <div aria-describedby={describedBy}>
                <Segmented label="Isolation" value={form.isolation} options={ISOLATIONS} onChange={(isolation: Isolation) => updateForm({ isolation })} testId="field-isolation" />
              </div>
            )}
          </Field>
        </FormSection>

        <FormSection id="env" title="Environment" summary={form.env.length ? `${form.env.length}` : undefined} invalid={Object.keys(errors).some((k) => k.startsWith('env.'))}>
          <EnvRows errors={errors} />
        </FormSection>

        <FormSection id="lifecycle" title="Pool lifecycle" defaultOpen={false} invalid={has('maxExecutions', 'rotationHours', 'healthCheckSeconds')}>
          <div className="field-grid">
            <TextField label="Max executions" value={form.maxExecutions} onChange={(maxExecutions) => updateForm({ maxExecutions })} error={errors['maxExecutions']} placeholder={String(DEFAULT_LIFECYCLE.maxExecutions)} numeric="numeric" testId="field-max-executions" />
            <TextField label="Rotate after" unit="h" value={form.rotationHours} onChange={(rotationHours) => updateForm({ rotationHours })} error={errors['rotationHours']} placeholder={String(DEFAULT_LIFECYCLE.rotationIntervalHours)} numeric="numeric" testId="field-rotation-hours" />
            <TextField label="Health check" unit="s" value={form.healthCheckSeconds} onChange={(healthCheckSeconds) => updateForm({ healthCheckSeconds })} error={errors['healthCheckSeconds']} placeholder={String(DEFAULT_LIFECYCLE.healthCheckIntervalSeconds)} numeric="numeric" testId="field-health-check" />
            <label className="check-field">
              <input type="checkbox" checked={form.autoCleanup} onChange={(e) => updateForm({ autoCleanup: e.target.checked })} data-testid="field-auto-cleanup" />
              Auto cleanup
            </label>
          </div>
        </FormSection>

        <FormSection id="advanced" title="Advanced" defaultOpen={false} invalid={has('workingDir', 'configName') || (runtime !== 'custom' && has('command'))}>
          <TextField label="Working directory" value={form.workingDir} onChange={(workingDir) => updateForm({ workingDir })} error={errors['workingDir']} placeholder="/tmp" mono testId="field-workdir" />
          <TextField label="Artifacts from" value={form.outputDir} onChange={(outputDir) => updateForm({ outputDir })} placeholder="outputs (in /tmp; empty: none)" mono testId="field-output-dir" />
          <TextField
            label="Config name"
            value={form.configName}
            onChange={(configName) => updateForm({ configName })}
            error={errors['configName']}
            placeholder="none"
            hint="Shows in container names and the pool"
            mono
            testId="field-config-name"
          />
          {runtime !== 'custom' ? (
            <TextField
              label="Command"
              value={form.command}
              onChange={(command) => updateForm({ command })}
              error={errors['command']}
              hint="The editor's code is passed as the last argument"
              mono
              testId="field-command"
            />
          ) : null}
        </FormSection>
        {errors['code'] ? (
          <p className="field-error form-code-error" data-testid="code-error">
            {errors['code']}
          </p>
        ) : null}
      </form>
    </aside>
  );
}
