// Which form field an engine ValidationError is about: the engine names fields by their proto
// path (config.resource_limits.memory_mb), the form by what the user sees (Memory).

export interface FormFieldRef {
  label: string;
  /** data-testid of the input, to focus it. */
  testId: string;
}

const EXACT: Record<string, FormFieldRef> = {
  'config.base_image': { label: 'Base image', testId: 'field-image' },
  'config.custom_image': { label: 'Image', testId: 'field-image' },
  'config.resource_limits.cpu_cores': { label: 'CPU', testId: 'field-cpus' },
  'config.resource_limits.memory_mb': { label: 'Memory', testId: 'field-memory' },
  'config.resource_limits.storage_mb': { label: 'Storage', testId: 'field-storage' },
  'config.resource_limits.pids_limit': { label: 'Processes', testId: 'field-pids' },
  'config.resource_limits.execution_timeout_seconds': { label: 'Timeout', testId: 'field-timeout' },
  timeout_seconds: { label: 'Timeout', testId: 'field-timeout' },
  'config.lifecycle.max_executions': { label: 'Max executions', testId: 'field-max-executions' },
  'config.lifecycle.rotation_interval_hours': { label: 'Rotate after', testId: 'field-rotation-hours' },
  'config.lifecycle.health_check_interval_seconds': { label: 'Health check', testId: 'field-health-check' },
  'config.network_mode': { label: 'Network', testId: 'field-network' },
  'config.name': { label: 'Config name', testId: 'field-config-name' },
  working_dir: { label: 'Working directory', testId: 'field-workdir' },
};

export function formFieldOf(field: string): FormFieldRef | undefined {
  const exact = EXACT[field];
  if (exact) return exact;
  if (field === 'config.packages' || field.startsWith('config.packages[')) return { label: 'Packages', testId: 'package-input' };
  if (field.startsWith('env.')) return { label: `Environment: ${field.slice(4)}`, testId: 'env-name' };
  if (field === 'command' || field.startsWith('command[')) return { label: 'Command', testId: 'field-command' };
  return undefined;
}
