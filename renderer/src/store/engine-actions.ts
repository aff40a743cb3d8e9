// The engine status light. While the engine is unreachable it is asked again every few
// seconds, so the light turns green by itself once Docker is started; while it is fine, a
// slower check notices when it goes away.
import { errorText, useApp } from './app-store';
import { getClient } from './client';

export const RETRY_MS = 3000;
export const HEALTHY_MS = 20_000;

let timer: ReturnType<typeof setTimeout> | undefined;
let running = false;

export async function checkEngine(): Promise<void> {
  clearTimeout(timer);
  useApp.setState({ engineChecking: true });
  try {
    const status = await getClient().engineStatus();
    useApp.setState({ engine: status, engineChecking: false });
  } catch (err) {
    // The transport itself failed (the host process is gone): that is red too.
    useApp.setState({
      engine: { ok: false, address: '', error: `Cannot reach Loom: ${errorText(err)}` },
      engineChecking: false,
    });
  }
  if (running) timer = setTimeout(() => void checkEngine(), useApp.getState().engine?.ok ? HEALTHY_MS : RETRY_MS);
}

/** Starts polling; returns the stop function. */
export function watchEngine(): () => void {
  running = true;
  void checkEngine();
  return () => {
    running = false;
    clearTimeout(timer);
  };
}
