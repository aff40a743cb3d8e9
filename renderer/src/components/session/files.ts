// Moving bytes between the page and a session: base64 over the transport, Blob downloads.
import { getClient } from '../../store/client';

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let at = 0; at < bytes.length; at += 0x8000) bin += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  return btoa(bin);
}

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Saves a session's file through the browser's download. */
export async function downloadSessionFile(sessionId: string, path: string): Promise<void> {
  const { data } = await getClient().readSessionFile(sessionId, path);
  const url = URL.createObjectURL(new Blob([base64ToBytes(data) as BlobPart]));
  const a = document.createElement('a');
  a.href = url;
  a.download = path.split('/').at(-1) ?? 'file';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function uploadFile(sessionId: string, file: File, dir = ''): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  await getClient().writeSessionFile(sessionId, dir ? `${dir}/${file.name}` : file.name, bytesToBase64(bytes));
}
