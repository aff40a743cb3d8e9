// The MCP stdio transport to a server running as a container's main process: JSON-RPC lines
// written to its attached stdin, read from its stdout (Docker's multiplexed frames, demuxed).
// Its stderr is kept as a short tail for error messages only: it may carry anything the server
// prints, secrets included, so it is never logged.
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Duplex } from 'node:stream';
import { FrameDemuxer } from '../../engine/container/output';

const STDERR_TAIL_BYTES = 4096;

export class ContainerStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private readonly buffer = new ReadBuffer();
  private stderr = '';
  private closed = false;

  constructor(private readonly stream: Duplex) {}

  /** The end of what the server wrote to stderr (for a "the server exited" message). */
  get stderrTail(): string {
    return this.stderr;
  }

  async start(): Promise<void> {
    const demux = new FrameDemuxer((kind, payload) => {
      if (kind === 'stderr') {
        this.stderr = (this.stderr + payload.toString('utf8')).slice(-STDERR_TAIL_BYTES);
        return;
      }
      this.buffer.append(payload);
      for (;;) {
        let message: JSONRPCMessage | null;
        try {
          message = this.buffer.readMessage();
        } catch (err) {
          this.onerror?.(err instanceof Error ? err : new Error(String(err)));
          continue;
        }
        if (!message) break;
        this.onmessage?.(message);
      }
    });
    this.stream.on('data', (chunk: Buffer) => demux.push(chunk));
    this.stream.on('error', (err: Error) => this.onerror?.(err));
    this.stream.once('end', () => this.finish());
    this.stream.once('close', () => this.finish());
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('the hosted MCP server has exited');
    await new Promise<void>((resolve, reject) => this.stream.write(serializeMessage(message), (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    this.stream.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }
}
