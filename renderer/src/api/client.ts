// The page's one way to reach the engine: getLoomClient() gives the same LoomClient in the
// Electron window (over the preload bridge) and in a browser (over the web host's WebSocket).
import { OUTPUT_FRAME_PROTOCOL, type LoomClient } from '../../../shared/api';
import { bridgeClient } from './bridge-client';
import { createWsClient } from './ws-client';

let client: LoomClient | undefined;

export function getLoomClient(): LoomClient {
  client ??= window.loom ? bridgeClient(window.loom) : browserClient(window.location);
  return client;
}

/**
 * Browser mode: the page was served by the web host, so this browser holds the host's session
 * cookie (the host swapped the printed token for it, and refuses the page without it), and the
 * browser sends it with the WebSocket handshake of this origin: nothing to pass here.
 */
export function browserClient(location: Location): LoomClient {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createWsClient({
    url: `${scheme}//${location.host}/api`,
    createSocket: (url) => {
      // Output as binary frames: no base64 to undo and no JSON to parse for every byte of a flood.
      const socket = new WebSocket(url, [OUTPUT_FRAME_PROTOCOL]);
      socket.binaryType = 'arraybuffer';
      return socket;
    },
  });
}
