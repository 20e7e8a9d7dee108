import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createAdapter } from '../../lib/adapters/registry';
import type { AdapterConfig, AdapterLayer, CreateContext } from '../../lib/adapters/types';
import { readSafetensors, writeSafetensors, type TensorMap } from '../../lib/io/safetensors';
import { createLinear, type LinearLayer } from '../../lib/models/linear';
import { fromPeftConfig } from '../../lib/peft/config';
import { CONFIG_FILE, WEIGHTS_FILE, loadAdapterDir, loadAdapterTensors, readAdapterDir, writeAdapterDir, writeAdapterFiles } from '../../lib/peft/adapter-dir';
import { Rng } from '../../lib/util/random';
import { assertNoLeak, setupBackend, tensorMaxDiff, throwsWith } from '../util';

test.before(async () => {
  await setupBackend();
});

const Q = 'model.layers.0.self_attn.q_proj';
const V = 'model.layers.0.self_attn.v_proj';
const SHAPES: [string, number, number][] = [
  [Q, 16, 24],
  [V, 8, 24],
];
const ALL = [Q, 'model.layers.0.self_attn.k_proj', V, 'model.layers.0.self_attn.o_proj'];

const tmpDirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-peft-'));
  tmpDirs.push(d);
  return d;
}
test.after(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Deterministic base weights, identical every call (so "the same base model" can be rebuilt). */
function bases(seed = 7): Map<string, LinearLayer> {
  const rng = new Rng(seed);
  return new Map(SHAPES.map(([n, o, i]) => [n, createLinear(n, tf.tensor2d(rng.normalArray(o * i, 0.5), [o, i]))]));
}

/** The LoRA-GA gradient depends on the module only: PEFT's unconverted LoRA-GA is only valid on the same residual base. */
function ctxFor(name: string, o: number, i: number, seed: number): CreateContext {
  const g = new Rng(1000 + name.length);
  return { seed, initGrad: tf.tensor2d(g.normalArray(o * i), [o, i]) };
}

function attach(b: Map<string, LinearLayer>, cfg: AdapterConfig, seed: number): Map<string, AdapterLayer> {
  const out = new Map<string, AdapterLayer>();
  for (const [n, l] of b) {
    const ctx = ctxFor(n, l.outFeatures, l.inFeatures, seed);
    out.set(n, createAdapter(l, cfg, ctx));
    ctx.initGrad!.dispose();
  }
  return out;
}

/** Move every adapter tensor away from its init (so a load that silently did nothing would be caught). */
function perturb(layers: Map<string, AdapterLayer>, seed: number): void {
  const rng = new Rng(seed);
  for (const l of layers.values())
    for (const v of Object.values(l.params())) {
      const d = tf.tensor(rng.normalArray(v.size, 0.3), v.shape);
      const s = tf.add(v, d);
      v.assign(s);
      tf.dispose([d, s]);
    }
}

function disposeAll(layers: Map<string, AdapterLayer>, b: Map<string, LinearLayer>): void {
  for (const l of layers.values()) l.dispose();
  for (const l of b.values()) l.dispose();
}

const bits = (a: Float32Array | Int32Array | Uint8Array) => Array.from(new Uint32Array(Float32Array.from(a as Float32Array).buffer));

const CASES: { cfg: AdapterConfig; keys: string[] }[] = [
  { cfg: { kind: 'lora', r: 4, alpha: 8, rslora: false, init: 'kaiming', loraBias: true }, keys: ['lora_A.weight', 'lora_B.bias', 'lora_B.weight'] },
  { cfg: { kind: 'dora', r: 4, alpha: 8, rslora: true }, keys: ['lora_A.weight', 'lora_B.weight', 'lora_magnitude_vector'] },
  { cfg: { kind: 'pissa', r: 4, alpha: 4, rslora: false, niter: null }, keys: ['lora_A.weight', 'lora_B.weight'] },
  { cfg: { kind: 'olora', r: 4, alpha: 8, rslora: false }, keys: ['lora_A.weight', 'lora_B.weight'] },
  { cfg: { kind: 'loraga', r: 2, alpha: 4, rslora: false, direction: 'ArBr', scale: 'unit', stableGamma: 16 }, keys: ['lora_A.weight', 'lora_B.weight'] },
  { cfg: { kind: 'bone', r: 5 }, keys: ['miss_block'] },
  { cfg: { kind: 'mini', r: 4, miniR: 4 }, keys: ['miss_block'] },
  { cfg: { kind: 'bat', r: 4, convention: 'out-block' }, keys: ['miss_block'] },
];

test('write -> read -> load round trip: PEFT keys, bit-identical tensors, equal config, same outputs', async () => {
  const x = tf.tensor2d(new Rng(3).normalArray(5 * 24), [5, 24]);
  for (const { cfg, keys } of CASES) {
    const dir = tmp();
    const b1 = bases();
    const l1 = attach(b1, cfg, 11);
    perturb(l1, 12);
    await assertNoLeak(`${cfg.kind} write`, () => writeAdapterDir(dir, l1, { allModules: ALL, baseModel: 'tiny' }));

    // The files, as PEFT would see them.
    const { tensors: flat, metadata } = readSafetensors(path.join(dir, WEIGHTS_FILE));
    assert.equal(metadata, { format: 'pt' }, `${cfg.kind} metadata`);
    const want = SHAPES.flatMap(([n]) => keys.map((k) => `base_model.model.${n}.${k}`)).sort();
    assert.equal([...flat.keys()].sort(), want, `${cfg.kind} keys`);
    const cfgText = fs.readFileSync(path.join(dir, CONFIG_FILE), 'utf8');
    const json = JSON.parse(cfgText);
    assert.equal(json.target_modules, ['q_proj', 'v_proj'], `${cfg.kind} target_modules`);
    assert.equal(fromPeftConfig(json).adapter, cfg, `${cfg.kind} config round trip`);

    // Read back: bit-identical to the layers' variables.
    const got = readAdapterDir(dir);
    assert.equal(got.adapter, cfg);
    assert.equal(got.targets, ['q_proj', 'v_proj']);
    for (const [n, layer] of l1) {
      const rec = got.tensors.get(n)!;
      for (const [k, v] of Object.entries(layer.params())) {
        assert.equal(rec[k].shape, v.shape, `${cfg.kind} ${n} ${k} shape`);
        assert.equal(bits(rec[k].data), bits(v.dataSync() as Float32Array), `${cfg.kind} ${n} ${k} bits`);
      }
    }

    // Load into fresh adapters (another seed) on a rebuilt base: same tensors, same outputs.
    const b2 = bases();
    const l2 = attach(b2, cfg, 99);
    await assertNoLeak(`${cfg.kind} load`, () => loadAdapterDir(dir, l2));
    for (const [n, layer] of l2) {
      const ref = l1.get(n)!.params();
      for (const [k, v] of Object.entries(layer.params())) assert.equal(bits(v.dataSync() as Float32Array), bits(ref[k].dataSync() as Float32Array), `${cfg.kind} ${n} ${k} loaded`);
      const xi = x;
      const y1 = l1.get(n)!.forward(xi);
      const y2 = layer.forward(xi);
      assert.ok(tensorMaxDiff(y1, y2) <= 1e-5, `${cfg.kind} ${n} outputs after load`);
      tf.dispose([y1, y2]);
    }
    disposeAll(l1, b1);
    disposeAll(l2, b2);
  }
  x.dispose();
});

test('PiSSA / OLoRA / LoRA-GA convert on save to a rank-2r LoRA that reproduces the trained model on the ORIGINAL base', () => {
  const x = tf.tensor2d(new Rng(4).normalArray(6 * 24), [6, 24]);
  const cfgs: AdapterConfig[] = [
    { kind: 'pissa', r: 4, alpha: 8, rslora: false, niter: null },
    { kind: 'olora', r: 3, alpha: 6, rslora: true },
    { kind: 'loraga', r: 2, alpha: 4, rslora: false, direction: 'ArB2r', scale: 'stable', stableGamma: 16 },
  ];
  for (const cfg of cfgs) {
    const dir = tmp();
    const b1 = bases();
    const l1 = attach(b1, cfg, 5); // b1 now holds residual weights
    perturb(l1, 6); // "training"
    writeAdapterDir(dir, l1, { allModules: ALL, convertToLora: true });
    const got = readAdapterDir(dir);
    const r = (cfg as { r: number }).r;
    const alpha = (cfg as { alpha: number }).alpha;
    const rs = (cfg as { rslora: boolean }).rslora;
    assert.equal(got.adapter, { kind: 'lora', r: 2 * r, alpha: rs ? Math.SQRT2 * alpha : 2 * alpha, rslora: rs, init: 'kaiming', loraBias: false }, `${cfg.kind} converted config`);
    assert.is(got.peftConfig.init_lora_weights, true);
    assert.equal(got.tensors.get(Q)!.lora_A.shape, [2 * r, 24]);
    // Plain LoRA on the untouched original base gives the trained model's outputs.
    const b2 = bases();
    const l2 = attach(b2, got.adapter, 1);
    loadAdapterDir(dir, l2);
    for (const n of l1.keys()) {
      const y1 = l1.get(n)!.forward(x);
      const y2 = l2.get(n)!.forward(x);
      const d = tensorMaxDiff(y1, y2);
      assert.ok(d < 1e-4, `${cfg.kind} ${n}: converted LoRA on the original base differs by ${d}`);
      tf.dispose([y1, y2]);
    }
    disposeAll(l1, b1);
    disposeAll(l2, b2);
  }
  x.dispose();
  const b = bases();
  const l = attach(b, { kind: 'bone', r: 4 }, 1);
  throwsWith(() => writeAdapterDir(tmp(), l, { convertToLora: true }), ["'bone'", 'pissa'], 'bone does not convert on save');
  disposeAll(l, b);
});

test('an old BONE checkpoint (bone_block keys, peft_type BONE) loads as MiSS', () => {
  for (const mode of ['bat', true] as const) {
    const dir = tmp();
    const rng = new Rng(21);
    const flat: TensorMap = new Map();
    const blocks = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [n, o] of SHAPES) {
      const shape = mode === 'bat' ? [o / 4, 4, 4] : [4, o];
      const t = { shape, data: rng.normalArray(shape.reduce((a, d) => a * d, 1), 0.1) };
      blocks.set(n, t);
      flat.set(`base_model.model.${n}.bone_block`, t);
    }
    writeSafetensors(path.join(dir, WEIGHTS_FILE), flat, { format: 'pt' });
    // BoneConfig keys as PEFT 0.14-0.18 wrote them (no mini_r, no miss_dropout).
    const boneCfg = {
      auto_mapping: null, base_model_name_or_path: 'meta-llama/Llama-2-7b-hf', bias: 'none', exclude_modules: null, inference_mode: true,
      init_weights: mode, layers_pattern: null, layers_to_transform: null, modules_to_save: null, peft_type: 'BONE', r: 4,
      revision: null, target_modules: ['v_proj', 'q_proj'], task_type: 'CAUSAL_LM',
    };
    fs.writeFileSync(path.join(dir, CONFIG_FILE), JSON.stringify(boneCfg, null, 2));
    const got = readAdapterDir(dir);
    const want: AdapterConfig = mode === 'bat' ? { kind: 'bat', r: 4, convention: 'out-block' } : { kind: 'bone', r: 4 };
    assert.equal(got.adapter, want, `BONE ${mode}`);
    assert.equal(Object.keys(got.tensors.get(Q)!), ['miss_block']);
    const b = bases();
    const layers = attach(b, want, 3);
    loadAdapterDir(dir, layers);
    for (const [n, layer] of layers) assert.equal(bits(layer.params().miss_block.dataSync() as Float32Array), bits(blocks.get(n)!.data), `${n} block`);
    disposeAll(layers, b);
  }
});

test('RWKV module paths use the same prefix rule, and targets stay unambiguous', () => {
  const dir = tmp();
  const all = ['blocks.0.att.key', 'blocks.0.ffn.key', 'blocks.1.att.key', 'blocks.1.ffn.key', 'head'];
  const rec = (o: number) => ({ miss_block: { shape: [2, o], data: new Float32Array(2 * o).map((_, i) => i) } });
  writeAdapterFiles(dir, { kind: 'bone', r: 2 }, new Map([['blocks.0.att.key', rec(8)], ['blocks.1.att.key', rec(8)]]), { allModules: all });
  const { tensors } = readSafetensors(path.join(dir, WEIGHTS_FILE));
  assert.equal([...tensors.keys()], ['base_model.model.blocks.0.att.key.miss_block', 'base_model.model.blocks.1.att.key.miss_block']);
  const got = readAdapterDir(dir);
  assert.equal(got.targets, ['att.key'], 'not bare "key", which would also take ffn.key');
});

test('malformed adapter folders are clear errors (missing/extra/unknown tensors, shapes, targets, config)', () => {
  const cfg: AdapterConfig = { kind: 'lora', r: 4, alpha: 8, rslora: false, init: 'kaiming', loraBias: false };
  const lora = (o: number, i: number, r = 4) => ({ lora_A: { shape: [r, i], data: new Float32Array(r * i) }, lora_B: { shape: [o, r], data: new Float32Array(o * r) } });
  const dir = tmp();
  writeAdapterFiles(dir, cfg, new Map([[Q, lora(16, 24)]]), { targets: ['q_proj'] });
  const wfile = path.join(dir, WEIGHTS_FILE);
  const good = readSafetensors(wfile).tensors;
  const rewrite = (edit: (m: TensorMap) => void) => {
    const m: TensorMap = new Map(good);
    edit(m);
    writeSafetensors(wfile, m, { format: 'pt' });
  };
  const key = (n: string, k: string) => `base_model.model.${n}.${k}`;

  rewrite((m) => m.delete(key(Q, 'lora_B.weight')));
  throwsWith(() => readAdapterDir(dir), [Q, "'lora_B'", 'missing'], 'missing tensor');
  rewrite((m) => m.set(key(Q, 'lora_magnitude_vector'), { shape: [16], data: new Float32Array(16) }));
  throwsWith(() => readAdapterDir(dir), [Q, "'lora_magnitude_vector'", 'unexpected'], 'extra tensor');
  rewrite((m) => m.set(key(Q, 'lora_C.weight'), { shape: [1], data: new Float32Array(1) }));
  throwsWith(() => readAdapterDir(dir), ["'base_model.model.model.layers.0.self_attn.q_proj.lora_C.weight'", 'unexpected tensor key'], 'unknown key');
  rewrite((m) => m.set(key(Q, 'miss_block'), { shape: [4, 16], data: new Float32Array(64) }));
  throwsWith(() => readAdapterDir(dir), ['miss_block', 'LORA'], 'MiSS tensor in a LoRA file');
  rewrite((m) => m.set(key(Q, 'lora_A.weight'), { shape: [3, 24], data: new Float32Array(72) }));
  throwsWith(() => readAdapterDir(dir), [Q, "'lora_A'", '[3, 24]', 'r=4'], 'rank mismatch');
  rewrite((m) => {
    m.set(key(V, 'lora_A.weight'), { shape: [4, 24], data: new Float32Array(96) });
    m.set(key(V, 'lora_B.weight'), { shape: [8, 4], data: new Float32Array(32) });
  });
  throwsWith(() => readAdapterDir(dir), [V, 'not in target_modules'], 'module outside the targets');
  rewrite(() => undefined);

  const cfgFile = path.join(dir, CONFIG_FILE);
  const goodCfg = fs.readFileSync(cfgFile, 'utf8');
  fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(goodCfg), r: undefined }));
  // PEFT's default r=8 then disagrees with the saved rank-4 tensors
  throwsWith(() => readAdapterDir(dir), [WEIGHTS_FILE, "'lora_A'", '[4, 24]', 'r=8'], 'config without r');
  fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(goodCfg), r: '4' }));
  throwsWith(() => readAdapterDir(dir), [CONFIG_FILE, "'r'", '"4"'], 'config with a string r');
  fs.writeFileSync(cfgFile, '{"peft_type": "LORA",');
  throwsWith(() => readAdapterDir(dir), [CONFIG_FILE, 'not valid JSON'], 'config not JSON');
  fs.rmSync(cfgFile);
  throwsWith(() => readAdapterDir(dir), ['missing', CONFIG_FILE], 'no config');
  fs.writeFileSync(cfgFile, goodCfg);
  readAdapterDir(dir); // intact again

  // Loading into layers that do not fit.
  const b = bases();
  const l4 = attach(new Map([[Q, b.get(Q)!]]), cfg, 1);
  const wrongIn = new Map([[Q, { ...lora(16, 20) }]]);
  throwsWith(() => loadAdapterTensors(wrongIn, l4), [Q, "'lora_A'", '[4, 20]', '[4, 24]'], 'shape mismatch on load');
  const before = l4.get(Q)!.params().lora_A.dataSync().slice();
  assert.equal(Array.from(l4.get(Q)!.params().lora_A.dataSync()), Array.from(before), 'failed load changed nothing');
  throwsWith(() => loadAdapterTensors(new Map([[Q, lora(16, 24)], [V, lora(8, 24)]]), l4), [V, 'no adapter there'], 'file module without a layer');
  const both = attach(b, cfg, 2);
  throwsWith(() => loadAdapterTensors(new Map([[Q, lora(16, 24)]]), both), [V, 'no tensors'], 'layer without file tensors');
  const alpha16 = attach(bases(), { ...cfg, alpha: 16 }, 3);
  throwsWith(() => loadAdapterDir(dir, new Map([[Q, alpha16.get(Q)!]])), [Q, '"alpha":16', '"alpha":8'], 'config disagreement');
  throwsWith(() => writeAdapterDir(tmp(), new Map([[Q, l4.get(Q)!], [V, alpha16.get(V)!]])), [V, 'one config'], 'mixed configs on write');
  const bat = attach(bases(), { kind: 'bat', r: 4, convention: 'in-block' }, 4);
  throwsWith(() => writeAdapterDir(tmp(), bat), ["'in-block'", 'no PEFT equivalent'], 'in-block bat export');
  for (const m of [l4, both, alpha16, bat]) for (const l of m.values()) l.dispose();
  for (const l of b.values()) l.dispose();
});

test.run();
