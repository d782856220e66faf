import fs from 'node:fs';

export interface SafeTensor {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

const MAX_HEADER = 16 * 1024 * 1024;

/**
 * Reads a safetensors file (8-byte little-endian header length, JSON header, raw little-endian data).
 * Only F32 is accepted: module tensors are fed to the graph as float32 inputs, and a silent cast
 * would hide a trainer bug. Every offset is checked against the file, so a truncated or corrupt file
 * is an error, never a tensor of garbage.
 */
export function readSafetensors(file: string, buf: Buffer = fs.readFileSync(file)): Map<string, SafeTensor> {
  // Messages name the file and what is wrong, never bytes of it (the file may not be what it claims).
  if (buf.length < 8) throw new Error(`${file}: too short to be safetensors`);
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > buf.length) throw new Error(`${file}: bad safetensors header length`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
  } catch {
    throw new Error(`${file}: safetensors header is not valid JSON`);
  }
  const base = 8 + headerLen;
  const out = new Map<string, SafeTensor>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32') throw new Error(`${file}: tensor '${name}' is ${t.dtype}; Aside modules must be F32`);
    const [start, end] = t.data_offsets;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!(start >= 0 && end >= start && base + end <= buf.length && end - start === count * 4)) {
      throw new Error(`${file}: tensor '${name}' offsets [${start}, ${end}) do not fit shape [${t.shape}] in a file of ${buf.length} bytes`);
    }
    // Copy into an aligned buffer of its own: the file buffer may not be 4-byte aligned at this offset.
    const data = new Float32Array(count);
    Buffer.from(data.buffer).set(buf.subarray(base + start, base + end));
    out.set(name, { dtype: t.dtype, shape: t.shape, data });
  }
  return out;
}

/** Writes F32 tensors as safetensors (used by tests and tools that make modules). */
export function writeSafetensors(file: string, tensors: Record<string, { shape: number[]; data: Float32Array }>): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  const parts: Buffer[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
    parts.push(bytes);
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json), ...parts]));
}
