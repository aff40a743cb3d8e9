// The page's one way to reach the engine: getLoomClient() gives the same LoomClient in the
// Electron window (over the preload bridge) and in a browser (over the web host's WebSocket).
import { LoomApiError, type LoomClient } from '../../../shared/api';
import { bridgeClient } from './bridge-client';
import { loomApiOver } from './calls';
import { createWsClient } from './ws-client';

let client: LoomClient | undefined;

export function getLoomClient(): LoomClient {
  client ??= window.loom ? bridgeClient(window.loom) : browserClient(window.location);
  return client;
}

/** Browser mode: the page was opened at http://127.0.0.1:PORT/?token=... as printed by `loom ui`. */
export function browserClient(location: Location): LoomClient {
  const token = new URLSearchParams(location.search).get('token');
  if (!token) {
    return unavailableClient(
      'This page was opened without its access token. Open the address that `loom ui` (or `npm run serve`) printed: http://127.0.0.1:PORT/?token=...',
    );
  }
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createWsClient({
    url: `${scheme}//${location.host}/api?token=${encodeURIComponent(token)}`,
    createSocket: (url) => new WebSocket(url),
  });
}

/** A client whose every call fails with the same explanation (the UI shows it as the engine status). */
function unavailableClient(message: string): LoomClient {
  return {
    ...loomApiOver(() => Promise.reject(new LoomApiError({ name: 'ConnectionError', message }))),
    onEvent: () => () => undefined,
  };
}
