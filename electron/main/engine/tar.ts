// A plain ustar archive, enough to copy Loom's own files and directories into a container
// (the engine's archive API takes tar); paths are relative and under 100 bytes.

export interface TarEntry {
  path: string;
  /** Absent for a directory. */
  body?: Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
}

export function tarOf(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  const octal = (n: number, width: number): string => n.toString(8).padStart(width - 1, '0') + '\0';
  for (const { path, body, mode, uid = 0, gid = 0 } of entries) {
    const dir = body === undefined;
    const header = Buffer.alloc(512);
    header.write(dir && !path.endsWith('/') ? `${path}/` : path, 0, 100, 'utf8');
    header.write(octal(mode ?? (dir ? 0o755 : 0o644), 8), 100);
    header.write(octal(uid, 8), 108);
    header.write(octal(gid, 8), 116);
    header.write(octal(body?.length ?? 0, 12), 124);
    header.write(octal(Math.floor(Date.now() / 1000), 12), 136);
    header.write('        ', 148); // checksum placeholder: spaces while summing
    header.write(dir ? '5' : '0', 156);
    header.write('ustar\0' + '00', 257);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(header);
    if (body) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
