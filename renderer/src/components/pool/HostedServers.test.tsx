// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LoomApiError } from '../../../../shared/api';
import { FakeClient } from '../../test/fake-client';
import { initialState, useApp } from '../../store/app-store';
import { setClient } from '../../store/client';
import { argumentsSkeleton, configOf, EXAMPLE_FORM } from './hosted-form';
import { HostedServers } from './HostedServers';

let client: FakeClient;
const settle = (): Promise<void> => act(async () => new Promise((resolve) => setTimeout(resolve, 10)));

beforeEach(() => {
  useApp.setState(initialState(), true);
  client = new FakeClient();
  setClient(client);
});
afterEach(() => {
  cleanup();
  setClient(null);
});

describe('HostedServers', () => {
  it('adds server-everything from the form as an McpServerConfig', async () => {
    render(<HostedServers now={Date.now()} />);
    await settle();
    fireEvent.click(screen.getByTestId('hosted-add-toggle'));
    fireEvent.change(screen.getByTestId('hosted-field-env'), { target: { value: 'GREETING=hi there' } });
    fireEvent.change(screen.getByTestId('hosted-field-secrets'), { target: { value: 'API_TOKEN, OTHER' } });
    fireEvent.click(screen.getByTestId('hosted-add-submit'));
    await settle();
    expect(client.hostedAdded).toEqual([
      {
        name: 'everything',
        image: 'loom-mcp-servers:1',
        command: ['node', '/opt/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'],
        env: { GREETING: 'hi there' },
        secrets: ['API_TOKEN', 'OTHER'],
      },
    ]);
    expect(screen.getAllByTestId('hosted-server')).toHaveLength(1);
  });

  it('shows the host’s error and marks the field it names', async () => {
    client.addHostedServer = async () => {
      throw new LoomApiError({ name: 'ValidationError', message: 'server.command: must name the server program', field: 'server.command' });
    };
    render(<HostedServers now={Date.now()} />);
    await settle();
    fireEvent.click(screen.getByTestId('hosted-add-toggle'));
    fireEvent.click(screen.getByTestId('hosted-add-submit'));
    await settle();
    expect(screen.getByTestId('hosted-add-error').textContent).toContain('server.command: must name the server program');
    expect(screen.getByTestId('hosted-field-command').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByTestId('hosted-field-name').getAttribute('aria-invalid')).toBe('false');
  });

  it('lists a server’s tools, calls one with JSON arguments and shows the result with its trace', async () => {
    await client.addHostedServer({ name: 'everything', image: 'img', command: ['srv'] });
    client.hostedTools = [{ name: 'echo', description: 'Echoes back the input', inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } }];
    render(<HostedServers now={Date.now()} />);
    await settle();
    const card = screen.getByTestId('hosted-server');
    fireEvent.click(within(card).getByTestId('hosted-list-tools'));
    await settle();
    fireEvent.click(within(card).getByTestId('hosted-tool'));
    const args = within(card).getByTestId('hosted-args') as HTMLTextAreaElement;
    expect(JSON.parse(args.value)).toEqual({ message: '' });
    fireEvent.change(args, { target: { value: '{"message": "hi"}' } });
    fireEvent.click(within(card).getByTestId('hosted-call'));
    await settle();
    expect(client.hostedCalls).toEqual([{ server: 'everything', tool: 'echo', args: { message: 'hi' } }]);
    expect(within(card).getByTestId('hosted-result-text').textContent).toBe('Echo: hi');
    fireEvent.click(within(card).getByTestId('hosted-result-trace'));
    expect(useApp.getState().view).toBe('traces');
    expect(useApp.getState().traceToOpen).toBe('a'.repeat(32));
  });

  it('refuses arguments that are not a JSON object before calling', async () => {
    await client.addHostedServer({ name: 'everything', image: 'img', command: ['srv'] });
    client.hostedTools = [{ name: 'echo', inputSchema: { type: 'object' } }];
    render(<HostedServers now={Date.now()} />);
    await settle();
    fireEvent.click(screen.getByTestId('hosted-list-tools'));
    await settle();
    fireEvent.click(screen.getByTestId('hosted-tool'));
    fireEvent.change(screen.getByTestId('hosted-args'), { target: { value: '[1]' } });
    fireEvent.click(screen.getByTestId('hosted-call'));
    await settle();
    expect(screen.getByTestId('hosted-call-error').textContent).toContain('arguments: must be a JSON object');
    expect(client.hostedCalls).toEqual([]);
  });
});

describe('hosted-form', () => {
  it('splits the command as sh would and names the field of a bad line', () => {
    expect(configOf({ ...EXAMPLE_FORM, command: `node 'a b.js'`, network: 'bridge' })).toMatchObject({ command: ['node', 'a b.js'], network: 'NETWORK_MODE_BRIDGE' });
    expect(() => configOf({ ...EXAMPLE_FORM, command: `node 'a` })).toThrow(/server\.command/);
    expect(() => configOf({ ...EXAMPLE_FORM, env: 'NOEQUALS' })).toThrow(/server\.env: line 1/);
  });

  it('starts the arguments from the required properties', () => {
    expect(JSON.parse(argumentsSkeleton({ properties: { a: { type: 'number' }, b: { type: 'string' } }, required: ['a'] }))).toEqual({ a: 0 });
  });
});
