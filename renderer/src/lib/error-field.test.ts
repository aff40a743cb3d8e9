import { describe, expect, it } from 'vitest';
import { formFieldOf } from './error-field';

describe('formFieldOf', () => {
  it('maps engine field paths to form fields', () => {
    expect(formFieldOf('config.resource_limits.memory_mb')).toEqual({ label: 'Memory', testId: 'field-memory' });
    expect(formFieldOf('config.packages[2]')?.testId).toBe('package-input');
    expect(formFieldOf('env.LOOM_X')?.label).toBe('Environment: LOOM_X');
    expect(formFieldOf('command[0]')?.testId).toBe('field-command');
    expect(formFieldOf('config.mounts[0].host_path')).toBeUndefined();
  });
});
