/** RWKV6 checkpoint folders: save/load round trip, config inference from shapes, and clear errors for other variants. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertNoLeak, tensorMaxDiff } from '../util';
import { Rwkv6Model } from '../../lib/models/rwkv6';
import { isRwkv6Checkpoint, loadRwkv6, rwkv6Weights, saveRwkv6 } from '../../lib/models/rwkv6-checkpoint';
import { readSafetensors, writeSafetensors, type TensorMap } from '../../lib/io/safetensors';
import { randomWeights, tinyConfig } from './rwkv6-ref';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rwkv6-ckpt-'));
const cfg = tinyConfig({ n_layer: 3, head_size_divisor: 4 });

test.before(async () => {
  await setupBackend();
});
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function logitsOf(m: Rwkv6Model): tf.Tensor3D {
  return tf.tidy(() => m.logits(tf.tensor2d([[1, 5, 9, 2, 22, 0]], [1, 6], 'int32')));
}

/** Write a tensor map (edited copy of a saved model) into a fresh folder, optionally with a config.json. */
function folderWith(name: string, tensors: TensorMap, config?: Record<string, unknown>): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  if (config) fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

test('save then load gives the same model (weights, config, logits)', async () => {
  await assertNoLeak('round trip', () => {
    const m = new Rwkv6Model(cfg, randomWeights(cfg, 1));
    const dir = path.join(tmp, 'roundtrip');
    saveRwkv6(m, dir);
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    assert.is(saved.model_type, 'rwkv6');
    assert.is(saved.head_size_divisor, 4);
    assert.ok(isRwkv6Checkpoint(dir));
    const { tensors } = readSafetensors(path.join(dir, 'model.safetensors'));
    assert.equal(tensors.get('blocks.0.att.time_maa_x')!.shape, [1, 1, 16], 'official [1, 1, C] shape');
    assert.equal(tensors.get('blocks.2.att.time_maa_w2')!.shape, [5, 4, 16]);
    const back = loadRwkv6(dir);
    assert.equal(back.cfg, cfg);
    const a = logitsOf(m);
    const b = logitsOf(back);
    assert.is(tensorMaxDiff(a, b), 0, 'identical logits');
    tf.dispose([a, b]);
    m.dispose();
    back.dispose();
  });
});

test('without config.json every size is inferred from shapes; [C] vectors stand for [1, 1, C]', () => {
  const m = new Rwkv6Model(cfg, randomWeights(cfg, 2));
  const w = rwkv6Weights(m);
  for (const [name, t] of w) if (t.shape.length === 3 && t.shape[0] === 1) t.shape = [t.shape[2]];
  const dir = folderWith('noconfig', w);
  assert.ok(isRwkv6Checkpoint(dir), 'recognised by its tensor names');
  const llamaLike = folderWith('llama-noconfig', new Map([['model.embed_tokens.weight', { shape: [2, 2], data: new Float32Array(4) }]]));
  assert.not.ok(isRwkv6Checkpoint(llamaLike), 'a LLaMA folder without config is not RWKV6');
  const back = loadRwkv6(dir);
  // head_size_divisor is not in the tensors: the official default (8) applies.
  assert.equal(back.cfg, { ...cfg, head_size_divisor: 8 });
  back.dispose();
  m.dispose();
});

function savedWeights(seed: number): TensorMap {
  const m = new Rwkv6Model(cfg, randomWeights(cfg, seed));
  const w = rwkv6Weights(m);
  m.dispose();
  return w;
}

const CASES: { name: string; edit: (w: TensorMap) => void; config?: Record<string, unknown>; error: RegExp }[] = [
  {
    name: 'RWKV-5 time_mix tensors',
    edit: (w) => w.set('blocks.0.att.time_mix_k', { shape: [1, 1, 16], data: new Float32Array(16) }),
    error: /tensor blocks\.0\.att\.time_mix_k is an RWKV-4\/5 token-shift tensor/,
  },
  {
    name: 'RWKV-7 tensors',
    edit: (w) => w.set('blocks.1.att.w0', { shape: [1, 1, 16], data: new Float32Array(16) }),
    error: /tensor blocks\.1\.att\.w0 is an RWKV-7 \(x070\) tensor/,
  },
  {
    name: 'HF transformers layout',
    edit: (w) => w.set('rwkv.embeddings.weight', { shape: [2, 2], data: new Float32Array(4) }),
    error: /tensor rwkv\.embeddings\.weight is a Hugging Face transformers RWKV layout/,
  },
  {
    name: 'missing ddlerp tensor',
    edit: (w) => w.delete('blocks.2.att.time_maa_w2'),
    error: /missing tensor blocks\.2\.att\.time_maa_w2 \(expected shape \[5,4,16\]\)/,
  },
  {
    name: 'missing ddlerp w1 in block 0',
    edit: (w) => w.delete('blocks.0.att.time_maa_w1'),
    error: /missing tensor blocks\.0\.att\.time_maa_w1 \(RWKV-6 ddlerp/,
  },
  {
    name: 'wrong shape',
    edit: (w) => w.set('blocks.1.ffn.value.weight', { shape: [16, 30], data: new Float32Array(480) }),
    error: /tensor blocks\.1\.ffn\.value\.weight has shape \[16,30\], expected \[16,32\]/,
  },
  {
    name: 'unexpected tensor',
    edit: (w) => w.set('blocks.0.att.time_state', { shape: [2, 8, 8], data: new Float32Array(128) }),
    error: /blocks\.0\.att\.time_state is a state-tuning tensor/,
  },
  {
    name: 'unknown extra tensor',
    edit: (w) => w.set('blocks.0.att.extra', { shape: [1], data: new Float32Array(1) }),
    error: /unexpected tensor blocks\.0\.att\.extra/,
  },
  {
    name: 'config disagrees with shapes',
    edit: () => undefined,
    config: { model_type: 'rwkv6', vocab_size: 23, n_embd: 32, n_layer: 3 },
    error: /config\.json: n_embd=32 disagrees with the tensors .* \(which imply n_embd=16\)/,
  },
  {
    name: 'config of another model type',
    edit: () => undefined,
    config: { model_type: 'rwkv5', vocab_size: 23, n_embd: 16, n_layer: 3 },
    error: /model_type must be 'rwkv6' for an RWKV6 checkpoint, got "rwkv5"/,
  },
];

for (const c of CASES)
  test(`load rejects ${c.name} with an error naming it`, () => {
    const w = savedWeights(3);
    c.edit(w);
    const dir = folderWith(c.name.replace(/\W+/g, '-'), w, c.config);
    const before = tf.memory().numTensors;
    assert.throws(() => loadRwkv6(dir), c.error);
    assert.is(tf.memory().numTensors, before, 'nothing allocated on failure');
  });

test('load of a folder without model.safetensors lists what is there', () => {
  const dir = path.join(tmp, 'empty');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), '');
  assert.throws(() => loadRwkv6(dir), /model\.safetensors not found \(folder holds: pytorch_model\.bin\)/);
});

test.run();
