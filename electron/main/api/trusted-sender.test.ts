// Which frames may call the API over IPC (the Electron side cannot run here: no Electron binary).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isTrustedSender, trustedRenderer } from './trusted-sender';

const INDEX = join('/opt', 'Loom Sandbox', 'resources', 'app', 'out', 'renderer', 'index.html');
const built = trustedRenderer(undefined, INDEX);
const dev = trustedRenderer('http://localhost:5173/', INDEX);

describe('isTrustedSender', () => {
  it('the built renderer: our index.html, with any hash or query', () => {
    const url = pathToFileURL(INDEX).href;
    expect(url).toContain('Loom%20Sandbox');
    expect(isTrustedSender(url, built)).toBe(true);
    expect(isTrustedSender(`${url}#/pool`, built)).toBe(true);
    expect(isTrustedSender(`${url}?x=1`, built)).toBe(true);
  });

  it.each([
    pathToFileURL(join(INDEX, '..', 'other.html')).href,
    pathToFileURL('/tmp/index.html').href,
    `file://evil.example${pathToFileURL(INDEX).pathname}`,
    'http://localhost:5173/',
    'https://evil.example/index.html',
    'about:blank',
    '',
  ])('the built renderer: refuses %j (any other file, host or scheme)', (url) => {
    expect(isTrustedSender(url, built)).toBe(false);
  });

  it('the dev server: trusts its origin', () => {
    expect(dev).toEqual({ kind: 'dev-server', origin: 'http://localhost:5173' });
  });

  it.each([
    ['http://localhost:5173/', true],
    ['http://localhost:5173/index.html#/runs', true],
    ['http://localhost:5174/', false],
    ['https://localhost:5173/', false],
    ['http://127.0.0.1:5173/', false],
    ['http://localhost.evil.example:5173/', false],
    [pathToFileURL(INDEX).href, false],
    ['data:text/html,hi', false],
    ['not a url', false],
  ])('the dev server: any page of its origin, nothing else: %j is %s', (url, trusted) => {
    expect(isTrustedSender(url, dev)).toBe(trusted);
  });
});
