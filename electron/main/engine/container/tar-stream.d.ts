// tar-stream (installed with dockerode, through docker-modem and tar-fs) ships no typings: the
// part of it Loom uses. Names over 100 bytes get a ustar prefix or a PAX header, as tar needs.
declare module 'tar-stream' {
  export interface Headers {
    name: string;
    type?: 'file' | 'directory';
    mode?: number;
    uid?: number;
    gid?: number;
    mtime?: Date;
  }

  /** An archive as it is written: entries in order, then finalize(). */
  export interface Pack extends NodeJS.ReadableStream {
    entry(header: Headers, body?: Buffer | string): NodeJS.WritableStream;
    finalize(): void;
  }

  export function pack(): Pack;
}
