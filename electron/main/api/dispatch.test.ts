// The call envelope both transports share: only LoomApi calls get through, arguments must be an
// array, and results and errors (name and fields intact) come back as {result} or {error}.
import { describe, expect, it } from 'vitest';
import { LOOM_METHODS } from '../../../shared/api';
import { dispatch } from './dispatch';
import { createTestBackend, TEST_STATUS } from './test-backend';

describe('dispatch', () => {
  it('calls the method with the arguments and wraps the result', async () => {
    const backend = createTestBackend();
    expect(await dispatch(backend, 'engineStatus', [])).toEqual({ result: TEST_STATUS });
    expect(await dispatch(backend, 'prewarm', [{ command: ['true'] }, 3])).toEqual({ result: undefined });
    expect(backend.calls).toEqual([
      { method: 'engineStatus', args: [] },
      { method: 'prewarm', args: [{ command: ['true'] }, 3] },
    ]);
  });

  it('wraps a thrown error with its name, message and fields', async () => {
    const backend = createTestBackend();
    const outcome = await dispatch(backend, 'startRun', ['run-1', { config: { resourceLimits: { memoryMb: '-5' } } }]);
    expect(outcome).toEqual({
      error: {
        name: 'ValidationError',
        message: 'config.resource_limits.memory_mb: must be positive',
        field: 'config.resource_limits.memory_mb',
        problem: 'must be positive',
      },
    });
    expect(await dispatch(backend, 'removeContainer', ['abc'])).toEqual({ error: { name: 'Error', message: 'no container abc' } });
  });

  it('a method that throws synchronously still answers with {error}', async () => {
    const backend = { ...createTestBackend(), listRuns: () => { throw new TypeError('boom'); } };
    expect(await dispatch(backend, 'listRuns', [])).toEqual({ error: { name: 'TypeError', message: 'boom' } });
  });

  it.each([
    ['unknown', 'nope'],
    ['not a call of LoomApi', 'onEvent'],
    ['prototype chain', 'constructor'],
    ['prototype chain', '__proto__'],
    ['prototype chain', 'toString'],
    ['not a string', 42],
  ])('refuses a method that is %s (%s) naming the field "method"', async (_why, method) => {
    const backend = createTestBackend();
    const outcome = await dispatch(backend, method, []);
    expect(outcome.error).toMatchObject({ name: 'ValidationError', field: 'method' });
    expect(outcome.error?.message).toContain('engineStatus');
    expect(backend.calls).toEqual([]);
  });

  it.each([
    ['not an array', { 0: 'x' }],
    ['missing', undefined],
    ['a string', 'run-1'],
    ['too many', ['run-1', 'extra']],
  ])('refuses arguments that are %s naming the field "args"', async (_why, args) => {
    const backend = createTestBackend();
    const outcome = await dispatch(backend, 'cancelRun', args);
    expect(outcome.error).toMatchObject({ name: 'ValidationError', field: 'args' });
    expect(backend.calls).toEqual([]);
  });

  it.each(LOOM_METHODS)('routes %s to the backend method of that name', async (method) => {
    const backend = createTestBackend();
    await dispatch(backend, method, []);
    expect(backend.calls.map((c) => c.method)).toEqual([method]);
  });
});
