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

  it('the built renderer: any other file, host or scheme is refused', () => {
    expect(isTrustedSender(pathToFileURL(join(INDEX, '..', 'other.html')).href, built)).toBe(false);
    expect(isTrustedSender(pathToFileURL('/tmp/index.html').href, built)).toBe(false);
    expect(isTrustedSender(`file://evil.example${pathToFileURL(INDEX).pathname}`, built)).toBe(false);
    expect(isTrustedSender('http://localhost:5173/', built)).toBe(false);
    expect(isTrustedSender('https://evil.example/index.html', built)).toBe(false);
    expect(isTrustedSender('about:blank', built)).toBe(false);
    expect(isTrustedSender('', built)).toBe(false);
  });

  it('the dev server: any page of its origin, nothing else', () => {
    expect(dev).toEqual({ kind: 'dev-server', origin: 'http://localhost:5173' });
    expect(isTrustedSender('http://localhost:5173/', dev)).toBe(true);
    expect(isTrustedSender('http://localhost:5173/index.html#/runs', dev)).toBe(true);
    expect(isTrustedSender('http://localhost:5174/', dev)).toBe(false);
    expect(isTrustedSender('https://localhost:5173/', dev)).toBe(false);
    expect(isTrustedSender('http://127.0.0.1:5173/', dev)).toBe(false);
    expect(isTrustedSender('http://localhost.evil.example:5173/', dev)).toBe(false);
    expect(isTrustedSender(pathToFileURL(INDEX).href, dev)).toBe(false);
    expect(isTrustedSender('data:text/html,hi', dev)).toBe(false);
    expect(isTrustedSender('not a url', dev)).toBe(false);
  });
});
