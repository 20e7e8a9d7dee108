/**
 * The .safetensors format: u64 little-endian header length N, N bytes of JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}, then the raw little-endian data.
 * Reads F32, F16, BF16 (upcast to float32); writes F32. Every malformed input is an error naming the file and tensor.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}
export type TensorMap = Map<string, NamedTensor>;

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * Math.pow(2, -14) * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * Math.pow(2, e - 15) * (1 + f / 1024);
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Parse and validate the header of a safetensors buffer; `where` names the source in errors. */
export function parseHeader(buf: Uint8Array, where = 'safetensors'): {
  entries: Record<string, HeaderEntry>;
  metadata: Record<string, string> | undefined;
  dataStart: number;
} {
  if (buf.byteLength < 8) throw new Error(`${where}: truncated file (${buf.byteLength} bytes, need at least 8 for the header length)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > buf.byteLength - 8) throw new Error(`${where}: truncated header (header length ${n} > ${buf.byteLength - 8} bytes available)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 8, n).toString('utf8'));
  } catch (e) {
    throw new Error(`${where}: header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new Error(`${where}: header is not a JSON object`);
  const dataStart = 8 + n;
  const dataLen = buf.byteLength - dataStart;
  const entries: Record<string, HeaderEntry> = {};
  let metadata: Record<string, string> | undefined;
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string'))
        throw new Error(`${where}: __metadata__ must be an object of strings, got ${JSON.stringify(v)}`);
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as HeaderEntry;
    if (!e || typeof e !== 'object' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2)
      throw new Error(`${where}: tensor '${name}' has a malformed header entry`);
    if (!(e.dtype in BYTES)) throw new Error(`${where}: tensor '${name}' has unsupported dtype '${e.dtype}' (supported: F32, F16, BF16)`);
    if (!e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`${where}: tensor '${name}' has an invalid shape [${e.shape}]`);
    const [b, end] = e.data_offsets;
    if (!Number.isInteger(b) || !Number.isInteger(end) || b < 0 || end < b) throw new Error(`${where}: tensor '${name}' has invalid data_offsets [${b}, ${end}]`);
    if (end > dataLen) throw new Error(`${where}: tensor '${name}' data_offsets [${b}, ${end}] run past the end of the data (${dataLen} bytes)`);
    const numel = e.shape.reduce((a, d) => a * d, 1);
    const want = numel * BYTES[e.dtype as SafetensorsDtype];
    if (end - b !== want)
      throw new Error(`${where}: tensor '${name}' shape [${e.shape}] ${e.dtype} needs ${want} bytes but data_offsets give ${end - b}`);
    entries[name] = e;
  }
  // Two tensors sharing bytes means a corrupt header (the format lays tensors out back to back).
  const spans = Object.entries(entries)
    .filter(([, e]) => e.data_offsets[1] > e.data_offsets[0])
    .sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  for (let i = 1; i < spans.length; i++) {
    const [pn, pe] = spans[i - 1];
    const [cn, ce] = spans[i];
    if (ce.data_offsets[0] < pe.data_offsets[1])
      throw new Error(`${where}: tensors '${pn}' [${pe.data_offsets}] and '${cn}' [${ce.data_offsets}] overlap in the data section`);
  }
  return { entries, metadata, dataStart };
}

/** Decode a safetensors buffer into float32 tensors. */
export function decodeSafetensors(buf: Uint8Array, where = 'safetensors'): { tensors: TensorMap; metadata?: Record<string, string> } {
  const { entries, metadata, dataStart } = parseHeader(buf, where);
  const tensors: TensorMap = new Map();
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (const [name, e] of Object.entries(entries)) {
    const numel = e.shape.reduce((a, d) => a * d, 1);
    const base = dataStart + e.data_offsets[0];
    const out = new Float32Array(numel);
    if (e.dtype === 'F32') for (let i = 0; i < numel; i++) out[i] = dv.getFloat32(base + 4 * i, true);
    else if (e.dtype === 'F16') for (let i = 0; i < numel; i++) out[i] = f16ToF32(dv.getUint16(base + 2 * i, true));
    else {
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < numel; i++) {
        tmp.setUint32(0, dv.getUint16(base + 2 * i, true) << 16, true);
        out[i] = tmp.getFloat32(0, true);
      }
    }
    tensors.set(name, { shape: e.shape.slice(), data: out });
  }
  return { tensors, metadata };
}

/** Read a .safetensors file. */
export function readSafetensors(file: string): { tensors: TensorMap; metadata?: Record<string, string> } {
  if (!fs.existsSync(file)) throw new Error(`safetensors file not found: ${file}`);
  return decodeSafetensors(new Uint8Array(fs.readFileSync(file)), file);
}

/** Encode float32 tensors as safetensors (keys sorted, header padded with spaces to a multiple of 8). */
export function encodeSafetensors(tensors: TensorMap, metadata?: Record<string, string>): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const numel = t.shape.reduce((a, d) => a * d, 1);
    if (numel !== t.data.length) throw new Error(`safetensors write: tensor '${name}' shape [${t.shape}] has ${numel} elements but data has ${t.data.length}`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + 4 * numel] };
    off += 4 * numel;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const hb = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hb.length + off);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    for (let i = 0; i < d.length; i++, p += 4) dv.setFloat32(p, d[i], true);
  }
  return out;
}

/** Write a .safetensors file atomically (temp file + rename). */
export function writeSafetensors(file: string, tensors: TensorMap, metadata?: Record<string, string>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, encodeSafetensors(tensors, metadata));
  fs.renameSync(tmp, file);
}
