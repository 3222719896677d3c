/**
 * Value encodings shared by the repositories: JSON records, and "header + raw bytes" for stored
 * config versions so content is kept byte for byte without base64 inflation.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}

/** 4-byte big-endian header length ‖ JSON header ‖ body bytes. */
export function encodeFramed(header: unknown, body: Uint8Array): Uint8Array {
  const head = encoder.encode(JSON.stringify(header));
  const out = new Uint8Array(4 + head.length + body.length);
  new DataView(out.buffer).setUint32(0, head.length);
  out.set(head, 4);
  out.set(body, 4 + head.length);
  return out;
}

export function decodeFramed<T>(bytes: Uint8Array): { header: T; body: Uint8Array } {
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  const header = JSON.parse(decoder.decode(bytes.subarray(4, 4 + length))) as T;
  return { header, body: bytes.subarray(4 + length) };
}
