// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { initialState, useApp } from '../../store/app-store';
import { RunControls } from '../topbar/RunControls';
import { RequestForm } from './RequestForm';

beforeEach(() => {
  localStorage.clear();
  useApp.setState(initialState(), true);
});
afterEach(cleanup);

function renderForm() {
  render(
    <>
      <RunControls />
      <RequestForm />
    </>,
  );
  return {
    run: () => screen.getByTestId('run-button') as HTMLButtonElement,
    memory: () => screen.getByTestId('field-memory') as HTMLInputElement,
    memoryError: () => screen.getByTestId('field-memory-error').textContent,
    pkg: () => screen.getByTestId('package-input') as HTMLInputElement,
    pkgError: () => screen.getByTestId('package-input-error').textContent,
  };
}

const type = (el: HTMLElement, value: string): void => {
  fireEvent.change(el, { target: { value } });
};

describe('RequestForm validation', () => {
  it('shows the defaults as placeholders and lets a clean form run', () => {
    const f = renderForm();
    expect(f.memory().placeholder).toBe('512');
    expect((screen.getByTestId('field-timeout') as HTMLInputElement).placeholder).toBe('300');
    expect((screen.getByTestId('field-cpus') as HTMLInputElement).placeholder).toBe('1');
    expect((screen.getByTestId('field-image') as HTMLInputElement).placeholder).toBe('python:3.11-slim');
    expect(f.run().disabled).toBe(false);
  });

  it('shows runc as the default isolation and takes gVisor, which the built request carries', () => {
    renderForm();
    expect(screen.getByTestId('isolation-runc').getAttribute('aria-checked')).toBe('true');
    expect(screen.getByText(/^Default: runc,/)).toBeTruthy();
    act(() => {
      fireEvent.click(screen.getByTestId('isolation-gvisor'));
    });
    expect(useApp.getState().form.isolation).toBe('gvisor');
    expect(screen.getByTestId('isolation-gvisor').getAttribute('aria-checked')).toBe('true');
  });

  it('explains a bad memory value as it is typed, and blocks Run until fixed', () => {
    const f = renderForm();
    type(f.memory(), '-5');
    expect(f.memoryError()).toBe('Must not be negative');
    expect(f.memory().getAttribute('aria-invalid')).toBe('true');
    // The message is tied to the field for assistive technology.
    const describedBy = f.memory().getAttribute('aria-describedby') ?? '';
    expect(describedBy.split(' ').map((id) => document.getElementById(id)?.textContent)).toContain('Must not be negative');
    expect(f.run().disabled).toBe(true);

    type(f.memory(), 'abc');
    expect(f.memoryError()).toBe('Enter a whole number of MB');
    expect(f.run().disabled).toBe(true);
    expect(screen.getByTestId('form-problems').textContent).toBe('1 problem');

    type(f.memory(), '256');
    expect(f.memoryError()).toBe('');
    expect(f.memory().getAttribute('aria-invalid')).toBe('false');
    expect(f.run().disabled).toBe(false);
  });

  it('refuses a package spec with a shell injection, adds a good one as a chip', () => {
    const f = renderForm();
    type(f.pkg(), 'requests; rm -rf /');
    expect(f.pkgError()).toBe('A package spec has no spaces');
    expect(f.run().disabled).toBe(true);
    fireEvent.keyDown(f.pkg(), { key: 'Enter' });
    expect(screen.queryAllByTestId('package-chip')).toHaveLength(0);
    expect(f.pkg().value).toBe('requests; rm -rf /');

    type(f.pkg(), '--index-url=http://evil');
    expect(f.pkgError()).toMatch(/installer option/);

    type(f.pkg(), 'requests==2.31.0');
    expect(f.pkgError()).toBe('');
    fireEvent.keyDown(f.pkg(), { key: 'Enter' });
    expect(screen.getAllByTestId('package-chip').map((c) => c.textContent)).toEqual(['requests==2.31.0']);
    expect(f.pkg().value).toBe('');
    expect(f.run().disabled).toBe(false);
  });

  it('validates env names: syntax, and the reserved LOOM_ prefix', () => {
    const f = renderForm();
    fireEvent.click(screen.getByTestId('env-add'));
    const name = screen.getByTestId('env-name') as HTMLInputElement;
    type(name, '1BAD-NAME');
    expect(screen.getByTestId('env-name-error').textContent).toMatch(/Letters, digits and _ only/);
    expect(name.getAttribute('aria-invalid')).toBe('true');
    expect(f.run().disabled).toBe(true);

    type(name, 'LOOM_TRACE_ID');
    expect(screen.getByTestId('env-name-error').textContent).toBe('Names starting with LOOM_ are reserved for Loom');
    expect(f.run().disabled).toBe(true);

    type(name, 'API_KEY');
    type(screen.getByTestId('env-value'), 'secret');
    expect(screen.getByTestId('env-name-error').textContent).toBe('');
    expect(f.run().disabled).toBe(false);
  });

  it('enables Run again once every field is fixed', () => {
    const f = renderForm();
    type(f.memory(), '-5');
    type(screen.getByTestId('field-timeout'), '0');
    type(f.pkg(), 'bad pkg');
    expect(screen.getByTestId('form-problems').textContent).toBe('3 problems');
    type(f.memory(), '');
    type(screen.getByTestId('field-timeout'), '30');
    type(f.pkg(), '');
    expect(screen.queryByTestId('form-problems')).toBeNull();
    expect(f.run().disabled).toBe(false);
  });

  it('asks a custom runtime for its image', () => {
    const f = renderForm();
    act(() => useApp.setState({ runtime: 'custom' }));
    expect(screen.getByTestId('field-image-error').textContent).toBe('A custom runtime needs an image');
    expect(f.run().disabled).toBe(true);
    type(screen.getByTestId('field-image'), 'busybox:1.36');
    expect(f.run().disabled).toBe(false);
  });
});
