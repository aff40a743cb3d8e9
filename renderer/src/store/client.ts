// The one LoomClient the store talks to. Set once at start-up (main.tsx, from the transport
// in ../api) or by a test with a fake; kept out of the zustand state because it is not data.
import type { LoomClient } from '../../../shared/api';

let current: LoomClient | null = null;

export function setClient(client: LoomClient | null): void {
  current = client;
}

export function getClient(): LoomClient {
  if (!current) throw new Error('no LoomClient: call setClient() at start-up');
  return current;
}
