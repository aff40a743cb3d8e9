// Bytes fields travel as base64 in proto3 JSON (stdout/stderr chunks, stdin, response output).
// atob/btoa work on "binary strings", so bytes are moved through them in slices: one call per
// byte would be slow for megabytes of output, and one String.fromCharCode(...all) call would
// overflow the argument limit.

const SLICE = 0x8000;

/** Uint8Array.fromBase64 (Chromium 140+, so Electron's page and current browsers): native, no binary string. */
const nativeFromBase64 = (Uint8Array as { fromBase64?: (base64: string) => Uint8Array }).fromBase64?.bind(Uint8Array);

export function base64ToBytes(base64: string): Uint8Array {
  if (nativeFromBase64) return nativeFromBase64(base64);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += SLICE) {
    binary += String.fromCharCode(...bytes.subarray(i, i + SLICE));
  }
  return btoa(binary);
}

export function textToBase64(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text));
}

/** Decodes base64 to text; invalid UTF-8 becomes U+FFFD rather than an exception. */
export function base64ToText(base64: string): string {
  return new TextDecoder().decode(base64ToBytes(base64));
}
