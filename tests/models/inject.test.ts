import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setupBackend, assertClose, assertNoLeak, maxAbsDiff } from '../util';
import { createLlama, type LlamaForCausalLM } from '../../lib/models/llama';
import { adapterLayers, exportPeft, importPeft, injectAdapters, mergeAndUnload, type ContextFor } from '../../lib/models/inject';
import type { AdapterConfig } from '../../lib/adapters/types';
import { Rng } from '../../lib/util/random';
import { averagedBaseGrads } from '../../lib/train/loraga-grad';
import { selectTargets } from '../../lib/models/targets';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-inject-'));
test.before(async () => {
  await setupBackend();
});
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// linears: q/o [24, 24], k/v [12, 24], gate/up [40, 24], down [24, 40]: r=4 divides every dimension
const CFG = {
  vocab_size: 29,
  hidden_size: 24,
  intermediate_size: 40,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  initializer_range: 0.3,
  max_position_embeddings: 32,
};
const IDS = [[1, 4, 9, 16, 25, 7, 2, 11], [3, 3, 8, 20, 1, 0, 28, 5]];
const lora = { r: 4, alpha: 8, rslora: false };

/** Each kind with its config, how close the init is to the base, and how large a random perturbation to use. */
const CASES: { name: string; cfg: AdapterConfig; initTol: number; perturb: number; model?: Record<string, unknown>; peft?: false }[] = [
  { name: 'lora', cfg: { kind: 'lora', ...lora, init: 'kaiming', loraBias: false }, initTol: 0, perturb: 0.1 },
  // lora_bias merges into the base bias, so this case uses a model whose linears all have one
  {
    name: 'lora rslora + lora_bias, biased model',
    cfg: { kind: 'lora', ...lora, rslora: true, init: 'gaussian', loraBias: true },
    initTol: 0,
    perturb: 0.1,
    model: { attention_bias: true, mlp_bias: true },
  },
  { name: 'pissa', cfg: { kind: 'pissa', ...lora, niter: null }, initTol: 1e-4, perturb: 0.1 },
  { name: 'olora', cfg: { kind: 'olora', ...lora }, initTol: 1e-4, perturb: 0.1 },
  { name: 'dora', cfg: { kind: 'dora', ...lora }, initTol: 1e-5, perturb: 0.1 },
  { name: 'loraga', cfg: { kind: 'loraga', ...lora, direction: 'ArB2r', scale: 'stable', stableGamma: 16 }, initTol: 1e-4, perturb: 0.1 },
  { name: 'bone', cfg: { kind: 'bone', r: 4 }, initTol: 0, perturb: 0.1 },
  { name: 'mini', cfg: { kind: 'mini', r: 4, miniR: 4 }, initTol: 0, perturb: 0.1 },
  { name: 'bat', cfg: { kind: 'bat', r: 4, convention: 'out-block' }, initTol: 0, perturb: 0.05 },
  // the author's RWKV-PEFT convention has no PEFT file format
  { name: 'bat in-block', cfg: { kind: 'bat', r: 4, convention: 'in-block' }, initTol: 0, perturb: 0.05, peft: false },
  { name: 'full', cfg: { kind: 'full' }, initTol: 0, perturb: 0.05, peft: false },
];

async function logits(m: LlamaForCausalLM): Promise<number[][][]> {
  const x = tf.tensor2d(IDS, [2, 8], 'int32');
  const y = m.logits(x);
  const out = (await y.array()) as number[][][];
  tf.dispose([x, y]);
  return out;
}

/** LoRA-GA needs the averaged base-weight gradients; other kinds need nothing extra. */
function contextFor(m: LlamaForCausalLM, cfg: AdapterConfig): { ctxFor?: ContextFor; done: () => void } {
  if (cfg.kind !== 'loraga') return { done: () => {} };
  const flat = Int32Array.from(IDS.flat());
  const batch = { inputIds: flat, labels: flat, shape: [2, 8] as [number, number], exampleIds: [['a'], ['b']], segmentIds: new Int32Array(16).fill(1) };
  const grads = averagedBaseGrads(m, selectTargets([...m.linears().keys()], 'all-linear'), [batch]);
  return { ctxFor: (name) => ({ initGrad: grads.get(name) }), done: () => tf.dispose([...grads.values()]) };
}

function snapshot(vars: Iterable<tf.Variable>): Map<tf.Variable, Float32Array> {
  return new Map([...vars].map((v) => [v, (v.dataSync() as Float32Array).slice()]));
}

for (const c of CASES) {
  test(`${c.name}: init ~ base, one step changes only trainable vars, merged == adapter logits, PEFT round trip, no leaks`, async () => {
    const m = createLlama({ ...CFG, ...c.model }, { seed: 1 });
    const base = await logits(m);
    const { ctxFor, done } = contextFor(m, c.cfg);
    const names = injectAdapters(m, { adapter: c.cfg, targets: 'all-linear', seed: 7 }, ctxFor);
    done();
    const expected = c.cfg.kind === 'full' ? [...m.linears().keys()] : [...m.linears().keys()].filter((n) => n !== 'lm_head');
    assert.equal(names, expected);
    assertClose(await logits(m), base, c.initTol, `${c.name} output at init`);
    if (c.initTol === 0 && c.cfg.kind !== 'dora') assert.equal(await logits(m), base, 'zero-init kinds are exact');

    // make the adapter non-trivial, as after some training
    const rng = new Rng(3);
    const trainable = m.trainableVariables();
    if (c.cfg.kind === 'full') assert.is(trainable.length, m.parameters().size, 'full: every base parameter, embeddings and norms included');
    else assert.ok(trainable.every((v) => ![...m.parameters().values()].includes(v)), 'only adapter variables');
    for (const v of trainable) v.assign(tf.add(v, tf.tensor(rng.normalArray(v.size, c.perturb), v.shape)));
    const adapted = await logits(m);
    assert.ok(maxAbsDiff(adapted, base) > 1e-3, 'the perturbed adapter changes the output');

    // one optimiser step: every trainable variable moves, nothing else does
    const all = new Set<tf.Variable>([...m.parameters().values(), ...trainable]);
    for (const a of adapterLayers(m).values()) Object.values(a.params()).forEach((v) => all.add(v));
    const before = snapshot(all);
    const x = tf.tensor2d(IDS, [2, 8], 'int32');
    const opt = tf.train.sgd(0.05);
    await assertNoLeak(`${c.name} step`, async () => {
      const loss = opt.minimize(() => m.loss(x, x), true, trainable)!;
      await loss.data();
      loss.dispose();
    });
    opt.dispose();
    for (const [v, was] of before) {
      const moved = maxAbsDiff(v.dataSync(), was) > 0;
      assert.is(moved, trainable.includes(v), `${c.name}: variable ${v.name} [${v.shape}] ${moved ? 'changed' : 'did not change'}`);
    }
    const stepped = await logits(m);

    // PEFT folder round trip onto a fresh copy of the base (the init re-runs, then the saved tensors overwrite it)
    if (c.peft !== false) {
      const dir = path.join(tmp, c.name.replace(/\W+/g, '_'));
      exportPeft(m, dir);
      const fresh = createLlama({ ...CFG, ...c.model }, { seed: 1 });
      const ctx = contextFor(fresh, c.cfg);
      importPeft(fresh, dir, { seed: 99, ctxFor: ctx.ctxFor });
      ctx.done();
      assertClose(await logits(fresh), stepped, 1e-5, `${c.name} reloaded adapter`);
      fresh.dispose();
    } else assert.throws(() => exportPeft(m, path.join(tmp, 'none')), /has no PEFT|no PEFT equivalent/);

    await assertNoLeak(`${c.name} forward+loss+grad`, async () => {
      const { value, grads } = tf.variableGrads(() => m.loss(x, x), trainable);
      await value.data();
      tf.dispose([value, ...Object.values(grads)]);
    });

    mergeAndUnload(m);
    assertClose(await logits(m), stepped, 1e-4, `${c.name} merged`);
    assert.is(adapterLayers(m).size, 0);
    assert.is(m.trainableVariables().length, 0, 'a merged model is plain and frozen');
    x.dispose();
    m.dispose();
  });
}

test('target selection: suffixes, mlp.down_proj, regex; a target matching nothing is named', () => {
  const m = createLlama(CFG, { seed: 1 });
  const lcfg: AdapterConfig = { kind: 'lora', ...lora, init: 'kaiming', loraBias: false };
  let names = injectAdapters(m, { adapter: lcfg, targets: ['q_proj', 'v_proj', 'mlp.down_proj'], seed: 0 });
  assert.equal(names, [0, 1].flatMap((i) => [`model.layers.${i}.self_attn.q_proj`, `model.layers.${i}.self_attn.v_proj`, `model.layers.${i}.mlp.down_proj`]));
  assert.throws(() => injectAdapters(m, { adapter: lcfg, targets: ['k_proj'], seed: 0 }), /already carry an adapter/);
  mergeAndUnload(m);
  names = injectAdapters(m, { adapter: lcfg, targets: 're:model\\.layers\\.1\\.mlp\\.(gate|up)_proj', seed: 0 });
  assert.equal(names, ['model.layers.1.mlp.gate_proj', 'model.layers.1.mlp.up_proj']);
  mergeAndUnload(m);
  assert.throws(() => injectAdapters(m, { adapter: lcfg, targets: ['q_proj', 'qproj'], seed: 0 }), /'qproj' matches no linear module/);
  assert.is(adapterLayers(m).size, 0);
  m.dispose();
});

test('every invalid target is reported at once, naming the module and its dimensions; nothing is attached', () => {
  const m = createLlama(CFG, { seed: 1 });
  let msg = '';
  try {
    injectAdapters(m, { adapter: { kind: 'bat', r: 6, convention: 'out-block' }, targets: 'all-linear', seed: 0 });
  } catch (e) {
    msg = (e as Error).message;
  }
  // 6 divides 24 and 12 (attention) but not 40 (gate/up/down), in both layers: 6 modules
  assert.match(msg, /6 target\(s\) rejected/);
  assert.match(msg, /model.layers.0.mlp.gate_proj: bat needs r to divide both dimensions, got r=6 with out_features=40, in_features=24/);
  assert.match(msg, /model.layers.1.mlp.down_proj: .*out_features=24, in_features=40/);
  assert.not.match(msg, /self_attn/, 'attention modules fit r=6 and are not listed');
  assert.is(adapterLayers(m).size, 0);
  assert.throws(() => injectAdapters(m, { adapter: { kind: 'nope' } as unknown as AdapterConfig, targets: 'all-linear', seed: 0 }), /unknown kind "nope"/);
  m.dispose();
  const tied = createLlama({ ...CFG, tie_word_embeddings: true }, { seed: 1 });
  assert.throws(
    () => injectAdapters(tied, { adapter: { kind: 'lora', ...lora, init: 'kaiming', loraBias: false }, targets: ['lm_head'], seed: 0 }),
    /lm_head: its weight is tied to another module's/,
  );
  tied.dispose();
});

test('a failure while creating adapters restores every base weight (PiSSA rewrites them) and attaches nothing', () => {
  const m = createLlama(CFG, { seed: 1 });
  const before = snapshot(m.parameters().values());
  let calls = 0;
  const ctxFor: ContextFor = () => {
    if (++calls === 5) throw new Error('boom at the fifth module');
    return {};
  };
  assert.throws(() => injectAdapters(m, { adapter: { kind: 'pissa', ...lora, niter: null }, targets: 'all-linear', seed: 0 }, ctxFor), /boom/);
  assert.is(adapterLayers(m).size, 0);
  for (const [v, was] of before) assert.is(maxAbsDiff(v.dataSync(), was), 0, `${v.name} restored`);
  m.dispose();
});

test('full fine-tuning on a tied model: the shared embedding is trained once, lm_head gets no separate layer', () => {
  const m = createLlama({ ...CFG, tie_word_embeddings: true }, { seed: 1 });
  const names = injectAdapters(m, { adapter: { kind: 'full' }, targets: 'all-linear', seed: 0 });
  assert.not.ok(names.includes('lm_head'));
  const vars = m.trainableVariables();
  assert.is(vars.length, m.parameters().size);
  assert.ok(vars.includes(m.parameters().get('model.embed_tokens.weight')!));
  mergeAndUnload(m);
  assert.is(m.trainableVariables().length, 0);
  m.dispose();
});

test.run();
