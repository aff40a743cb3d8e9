// What the transports need from the engine side: the calls plus the event stream. This is the
// shape of app/service.ts's LoomService minus close() (the transports never own the backend),
// spelled out here so that the transports do not depend on how the service is built.
import type { LoomApi, LoomEvent } from '../../../shared/api';

export type LoomBackend = LoomApi & {
  /** Subscribes to every event; returns the unsubscribe. */
  onEvent(listener: (event: LoomEvent) => void): () => void;
};
