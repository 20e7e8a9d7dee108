import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors, type TensorMap } from '../../lib/io/safetensors';
import { listLinears } from '../../lib/models/presets';
import { TINY_LLAMA_DIR, throwsWith } from '../util';

/** Build a safetensors buffer by hand: header object + raw data bytes (no padding, to test the reader alone). */
function craft(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const hb = Buffer.from(headerText ?? JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

function u16le(values: number[]): Uint8Array {
  const b = new Uint8Array(2 * values.length);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setUint16(2 * i, v, true));
  return b;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

test('F32 round trip is bit-identical, keys sorted, header 8-aligned, metadata kept', () => {
  const edge = new Float32Array([0, -0, 1, -1.5, 3.4028234663852886e38, 1.401298464324817e-45, 1.1754942106924411e-38, Infinity, -Infinity, Math.PI, 1e-20]);
  const big = new Float32Array(6 * 7);
  for (let i = 0; i < big.length; i++) big[i] = Math.fround(Math.sin(i * 1.7) * 100 + i / 3);
  const tensors: TensorMap = new Map([
    ['z.last', { shape: [edge.length], data: edge }],
    ['a.first', { shape: [6, 7], data: big }],
    ['m.scalar', { shape: [], data: new Float32Array([42.5]) }],
    ['m.empty', { shape: [0, 3], data: new Float32Array(0) }],
  ]);
  const buf = encodeSafetensors(tensors, { format: 'pt' });
  const n = Number(new DataView(buf.buffer).getBigUint64(0, true));
  assert.is((8 + n) % 8, 0, 'data section starts 8-byte aligned');
  const header = JSON.parse(Buffer.from(buf.subarray(8, 8 + n)).toString('utf8'));
  assert.equal(Object.keys(header), ['__metadata__', 'a.first', 'm.empty', 'm.scalar', 'z.last'], 'keys sorted, metadata first');
  assert.equal(header['a.first'], { dtype: 'F32', shape: [6, 7], data_offsets: [0, 168] });
  assert.is(buf.length, 8 + n + 4 * (42 + 0 + 1 + edge.length), 'file size = header + data, no slack');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-st-'));
  try {
    const file = path.join(dir, 'sub', 'x.safetensors');
    writeSafetensors(file, tensors, { format: 'pt' });
    const back = readSafetensors(file);
    assert.equal(back.metadata, { format: 'pt' });
    assert.equal([...back.tensors.keys()].sort(), [...tensors.keys()].sort());
    for (const [k, t] of tensors) {
      const b = back.tensors.get(k)!;
      assert.equal(b.shape, t.shape, `${k} shape`);
      assert.equal(bits(b.data), bits(t.data), `${k} bits`);
    }
    assert.ok(Object.is(back.tensors.get('z.last')!.data[1], -0), 'negative zero kept');
    assert.equal(fs.readdirSync(path.join(dir, 'sub')), ['x.safetensors'], 'no temp file left behind');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('F32 NaN survives a round trip', () => {
  const t: TensorMap = new Map([['n', { shape: [2], data: new Float32Array([NaN, 1]) }]]);
  const back = decodeSafetensors(encodeSafetensors(t)).tensors.get('n')!;
  assert.ok(Number.isNaN(back.data[0]));
  assert.is(back.data[1], 1);
});

test('F16 decoding of hand-made bytes: normals, subnormals, limits, signed zero, inf, NaN', () => {
  const cases: [number, number][] = [
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504], // largest finite
    [0x0400, 2 ** -14], // smallest normal
    [0x0001, 2 ** -24], // smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x8000, -0],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  const raw = [...cases.map((c) => c[0]), 0x7e00];
  const buf = craft({ h: { dtype: 'F16', shape: [raw.length], data_offsets: [0, 2 * raw.length] } }, u16le(raw));
  const d = decodeSafetensors(buf).tensors.get('h')!.data;
  cases.forEach(([h, v], i) => assert.ok(Object.is(d[i], v), `f16 0x${h.toString(16)} -> ${d[i]}, want ${v}`));
  assert.ok(Number.isNaN(d[cases.length]), 'f16 0x7e00 is NaN');
});

test('BF16 decoding of hand-made bytes (upper half of the float32 bits)', () => {
  const cases: [number, number][] = [
    [0x3f80, 1],
    [0xc040, -3],
    [0x4049, 3.140625],
    [0x3e80, 0.25],
    [0x7f7f, 3.3895313892515355e38], // largest finite
    [0x0001, 9.183549615799121e-41], // smallest subnormal (2^-133)
    [0x8000, -0],
    [0x7f80, Infinity],
    [0xff80, -Infinity],
  ];
  const raw = [...cases.map((c) => c[0]), 0x7fc0];
  const buf = craft({ b: { dtype: 'BF16', shape: [2, 5], data_offsets: [0, 2 * raw.length] } }, u16le(raw));
  const t = decodeSafetensors(buf).tensors.get('b')!;
  assert.equal(t.shape, [2, 5]);
  cases.forEach(([h, v], i) => assert.ok(Object.is(t.data[i], Math.fround(v)), `bf16 0x${h.toString(16)} -> ${t.data[i]}, want ${v}`));
  assert.ok(Number.isNaN(t.data[cases.length]), 'bf16 0x7fc0 is NaN');
});

test('mixed dtypes in one file decode at their own offsets', () => {
  const f32 = new Uint8Array(new Float32Array([2.5, -7]).buffer);
  const data = new Uint8Array(12);
  data.set(u16le([0x3c00, 0x4000]), 0); // F16 [1, 2]
  data.set(f32, 4);
  const buf = craft(
    { __metadata__: { format: 'pt' }, h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, f: { dtype: 'F32', shape: [2, 1], data_offsets: [4, 12] } },
    data,
  );
  const { tensors, metadata } = decodeSafetensors(buf);
  assert.equal(metadata, { format: 'pt' });
  assert.equal(Array.from(tensors.get('h')!.data), [1, 2]);
  assert.equal(Array.from(tensors.get('f')!.data), [2.5, -7]);
});

test('malformed files give clear errors naming the file and tensor', () => {
  const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const data8 = new Uint8Array(8);
  throwsWith(() => decodeSafetensors(new Uint8Array(5), 'f.st'), ['f.st', 'truncated'], 'shorter than the length prefix');
  const full = craft({ w: ok }, data8);
  throwsWith(() => decodeSafetensors(full.subarray(0, 20), 'f.st'), ['f.st', 'truncated header'], 'header cut off');
  throwsWith(() => decodeSafetensors(craft(null, data8, '{"w": {"dtype": "F32", '), 'f.st'), ['f.st', 'not valid JSON'], 'non-JSON header');
  throwsWith(() => decodeSafetensors(craft([1, 2], data8), 'f.st'), ['f.st', 'not a JSON object'], 'array header');
  throwsWith(() => decodeSafetensors(craft({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 16] } }, data8), 'f.st'), ["'w'", 'past the end', '[0, 16]'], 'offsets past the end');
  throwsWith(() => decodeSafetensors(full.subarray(0, full.length - 1), 'f.st'), ["'w'", 'past the end'], 'data truncated');
  throwsWith(() => decodeSafetensors(craft({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, data8), 'f.st'), ["'w'", "'I64'", 'dtype'], 'unknown dtype');
  throwsWith(() => decodeSafetensors(craft({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data8), 'f.st'), ["'w'", '[3]', '12 bytes', '8'], 'shape/size mismatch');
  throwsWith(() => decodeSafetensors(craft({ w: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 8] } }, new Uint8Array(12)), 'f.st'), ["'w'", '12 bytes', 'give 8'], 'f16 size mismatch');
  throwsWith(() => decodeSafetensors(craft({ w: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, data8), 'f.st'), ["'w'", 'invalid shape'], 'negative dim');
  throwsWith(() => decodeSafetensors(craft({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data8), 'f.st'), ["'w'", 'invalid data_offsets'], 'reversed offsets');
  throwsWith(() => decodeSafetensors(craft({ w: { dtype: 'F32', shape: [2] } }, data8), 'f.st'), ["'w'", 'malformed'], 'missing data_offsets');
  throwsWith(
    () => decodeSafetensors(craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8), 'f.st'),
    ["'a'", "'b'", 'overlap'],
    'overlapping tensors',
  );
  throwsWith(() => decodeSafetensors(craft({ __metadata__: [1], w: ok }, data8), 'f.st'), ['f.st', '__metadata__'], 'metadata not an object');
  throwsWith(() => readSafetensors(path.join(os.tmpdir(), 'bonelab-no-such-file.safetensors')), ['not found', 'bonelab-no-such-file'], 'missing file');
});

test('encode rejects a tensor whose data length disagrees with its shape', () => {
  throwsWith(() => encodeSafetensors(new Map([['w', { shape: [2, 2], data: new Float32Array(3) }]])), ["'w'", '[2,2]', '4 elements', '3'], 'encode mismatch');
});

test('reads the tiny LLaMA reference checkpoint: every tensor, shapes from config.json, values from an independent reader', () => {
  const cfg = JSON.parse(fs.readFileSync(path.join(TINY_LLAMA_DIR, 'config.json'), 'utf8'));
  const { tensors, metadata } = readSafetensors(path.join(TINY_LLAMA_DIR, 'model.safetensors'));
  assert.equal(metadata, { format: 'pt' });
  const H = cfg.hidden_size as number;
  const L = cfg.num_hidden_layers as number;
  const want = new Map<string, number[]>([
    ['model.embed_tokens.weight', [cfg.vocab_size, H]],
    ['model.norm.weight', [H]],
  ]);
  for (const l of listLinears(cfg)) want.set(`${l.name}.weight`, [l.out, l.in]);
  for (let i = 0; i < L; i++) for (const n of ['input_layernorm', 'post_attention_layernorm']) want.set(`model.layers.${i}.${n}.weight`, [H]);
  assert.equal([...tensors.keys()].sort(), [...want.keys()].sort(), 'tensor names');
  for (const [k, s] of want) {
    const t = tensors.get(k)!;
    assert.equal(t.shape, s, `${k} shape`);
    assert.ok(t.data.every(Number.isFinite), `${k} finite`);
  }
  // Spot values read with Python's struct module from the same file.
  const norm = tensors.get('model.norm.weight')!.data;
  assert.equal([norm[0], norm[1], norm[2], norm[63]], [1.0781503915786743, 1.0093305110931396, 1.0966241359710693, 0.9778205752372742].map(Math.fround));
  const k1 = tensors.get('model.layers.1.self_attn.k_proj.weight')!.data;
  assert.equal([k1[0], k1[k1.length - 1]], [0.033727895468473434, -0.03138022869825363].map(Math.fround));
  const sum = (a: Float32Array) => a.reduce((s, x) => s + x, 0);
  assert.ok(Math.abs(sum(k1) - -2.065695055480319) < 1e-9, `k_proj sum ${sum(k1)}`);
  assert.ok(Math.abs(sum(tensors.get('lm_head.weight')!.data) - -2.750955783025347) < 1e-9, 'lm_head sum');
});

test.run();
