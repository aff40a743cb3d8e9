// Rotating a container means making another one like it, and a pool entry keeps no request to
// make it from. So the service remembers, per pool key, the last request it ran or prewarmed
// there (bounded: the app runs for days and configs come and go).
import type { ExecuteRequest } from '../../../shared/gen/loom/v1/docker_pb';

export interface KnownConfig {
  request: ExecuteRequest;
  packages: readonly string[];
}

export class KnownConfigs {
  private readonly byKey = new Map<string, KnownConfig>();

  constructor(private readonly max = 256) {}

  remember(poolKey: string, config: KnownConfig): void {
    // Re-inserted so that Map order is least recently used first.
    this.byKey.delete(poolKey);
    this.byKey.set(poolKey, config);
    for (const oldest of this.byKey.keys()) {
      if (this.byKey.size <= this.max) break;
      this.byKey.delete(oldest);
    }
  }

  get(poolKey: string): KnownConfig | undefined {
    return this.byKey.get(poolKey);
  }
}
