/**
 * The conformance runner: every vector in a folder is mapped from PEFT's config to an AdapterConfig, built on its W
 * (running the real PiSSA/OLoRA/LoRA-GA init and comparing the sign-free init fields), set to the vector's params, and
 * compared field by field: y, delta_weight, merged_weight, grads (L = sum(y * g)), grad_x, scaling, weight_norm,
 * LoRA equivalents and conversions, merge and unmerge(merge(W)) == W. errors.json is one entry (see errors.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { assignParams } from '../adapters/common';
import { loraLayerFrom, toLora } from '../adapters/convert';
import { DoraLayer } from '../adapters/dora';
import { LoraLayer } from '../adapters/lora';
import { LoraGaLayer } from '../adapters/loraga';
import { createAdapter } from '../adapters/registry';
import type { AdapterConfig, AdapterLayer, CreateContext } from '../adapters/types';
import { createLinear, type LinearLayer } from '../models/linear';
import { parsePeftConfig, PEFT_PARAM_ALIASES } from '../peft/config';
import { FieldChecker } from './check';
import { runErrorsFile } from './errors';
import { isErrorsFile, loadVectorFolder, type ConformanceVector, type Nested } from './vector';

export interface VectorResult {
  id: string;
  file: string;
  status: 'pass' | 'fail';
  /** Worst relative error over the compared fields (null when nothing was compared). */
  worst: number | null;
  /** Why it failed, or a note on what was checked. */
  detail: string;
}

/** The module name vectors are built under (their peft_keys use layer 0 q_proj). */
export const VECTOR_MODULE = 'model.layers.0.self_attn.q_proj';

const RESIDUAL_KINDS = ['pissa', 'olora', 'loraga'];

function pname(k: string): string {
  return PEFT_PARAM_ALIASES[k] ?? k;
}

/** L = sum(forward(x) * g): grads of every PEFT-named parameter, and of x. */
function gradients(layer: AdapterLayer, x: tf.Tensor2D, g: tf.Tensor2D): { byName: Record<string, tf.Tensor>; dx: tf.Tensor } {
  const params = layer.params();
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.forward(x), g)) as tf.Scalar, layer.trainableVariables());
  value.dispose();
  const byName: Record<string, tf.Tensor> = {};
  for (const [name, v] of Object.entries(params)) if (grads[v.name]) byName[name] = grads[v.name];
  const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(layer.forward(xi as tf.Tensor2D), g)))(x);
  return { byName, dx };
}

/** Init cases of non-residual methods: our own fresh init must satisfy the vector's init invariants. */
function checkFreshInit(v: ConformanceVector, layer: AdapterLayer, x: tf.Tensor2D, g: tf.Tensor2D, chk: FieldChecker): void {
  const init = v.init ?? {};
  const params = layer.params();
  if (init.y_equals_base === true) tf.tidy(() => chk.compare('init: y == base(x)', layer.forward(x), v.expected.y));
  for (const [k, val] of Object.entries(init)) {
    const p = params[pname(k)];
    if (val === 'all zeros') {
      if (!p) chk.require(`init: ${k}`, false, `the adapter has no parameter '${pname(k)}'`);
      else chk.require(`init: ${k} == 0`, tf.tidy(() => tf.max(tf.abs(p)).dataSync()[0]) === 0, 'not all zeros');
    } else if (Array.isArray(val) && p) {
      chk.compare(`init: ${k}`, p, val);
    }
  }
  if (typeof init.lora_A_bound === 'number') {
    const bound = init.lora_A_bound;
    const m = tf.tidy(() => tf.max(tf.abs(params.lora_A)).dataSync()[0]);
    chk.require('init: |lora_A| <= bound', m <= bound * (1 + 1e-6), `max |A| = ${m} exceeds ${bound}`);
    chk.require('init: lora_A spread', m > bound / 2, `max |A| = ${m} is far inside U(±${bound}): not the PEFT draw`);
  }
  if (init.grad_lora_A_is_zero === true) {
    const { byName, dx } = gradients(layer, x, g);
    const gm = tf.tidy(() => tf.max(tf.abs(byName.lora_A)).dataSync()[0]);
    chk.require('init: dL/dA == 0', gm === 0, `max |dL/dA| = ${gm}`);
    tf.dispose([...Object.values(byName), dx]);
  }
}

/** PiSSA / OLoRA / LoRA-GA: compare the sign-free fields of our init with the vector's. */
function checkResidualInit(v: ConformanceVector, layer: AdapterLayer, chk: FieldChecker): void {
  const init = v.init ?? {};
  const p = layer.initialParams?.();
  if (!p) {
    chk.require('init', false, 'the layer kept no initial A0/B0');
    return;
  }
  const A0 = p.lora_A as tf.Tensor2D;
  const B0 = p.lora_B as tf.Tensor2D;
  tf.tidy(() => {
    if (init.B_at_A) chk.compare('init: B0 A0', tf.matMul(B0, A0), init.B_at_A);
    if (init.W_res && v.method !== 'loraga') chk.compare('init: W_res', layer.base.weight, init.W_res); // loraga's W_res depends on signs
    if (init.A_T_A) chk.compare('init: A0^T A0', tf.matMul(A0, A0, true, false), init.A_T_A);
    if (init.B_B_T) chk.compare('init: B0 B0^T', tf.matMul(B0, B0, false, true), init.B_B_T);
    if (init.S_B) chk.compare('init: S_B', layer instanceof LoraGaLayer ? layer.initSingularValues : [], init.S_B);
    if (init.singular_values && layer instanceof LoraLayer) {
      // B0 = U_r diag(sqrt(S_r / s)), so s * ||B0[:, i]||^2 = S_i.
      chk.compare('init: singular values', tf.mul(tf.sum(tf.square(B0), 0), layer.scaling), init.singular_values);
    }
  });
  tf.dispose([A0, B0]);
}

/** Forward, delta, merged weight, grads, scaling, DoRA norm, LoRA forms, merge and unmerge at the vector's params. */
function checkExpected(v: ConformanceVector, layer: AdapterLayer, wBase: number[][], x: tf.Tensor2D, g: tf.Tensor2D, chk: FieldChecker): void {
  const e = v.expected;
  tf.tidy(() => {
    chk.compare('y', layer.forward(x), e.y);
    if (e.delta_weight) chk.compare('delta_weight', layer.deltaWeight(), e.delta_weight);
    if (e.merged_weight) chk.compare('merged_weight', layer.mergedWeight(), e.merged_weight);
    if (typeof e.scaling === 'number') chk.compare('scaling', layer instanceof LoraLayer ? layer.scaling : NaN, e.scaling);
    if (e.weight_norm) chk.compare('weight_norm', layer instanceof DoraLayer ? layer.weightNorm() : tf.tensor1d([NaN]), e.weight_norm);
  });
  const { byName, dx } = gradients(layer, x, g);
  for (const [k, want] of Object.entries(e.grads ?? {})) {
    const got = byName[pname(k)];
    if (got) chk.compare(`grads.${k}`, got, want);
    else chk.require(`grads.${k}`, false, `no gradient for '${pname(k)}'`);
  }
  if (e.grad_x) chk.compare('grad_x', dx, e.grad_x);
  tf.dispose([...Object.values(byName), dx]);

  const eq = e.lora_equivalent as { lora_B?: Nested } | undefined;
  if (eq?.lora_B || v.conversion_to_lora) {
    const exp = toLora(layer);
    const lora = loraLayerFrom(layer.base, exp);
    tf.tidy(() => {
      if (eq?.lora_B) {
        chk.compare('lora_equivalent.lora_B', exp.params.lora_B, eq.lora_B);
        chk.compare('lora_equivalent: y', lora.forward(x), e.y);
      }
      const c = v.conversion_to_lora;
      if (c) {
        chk.compare('conversion_to_lora.r', exp.config.r, c.r);
        chk.compare('conversion_to_lora.lora_alpha', exp.config.alpha, c.lora_alpha);
        chk.compare('conversion_to_lora.scaling', lora.scaling, c.scaling);
        chk.compare('conversion_to_lora.delta_weight', lora.deltaWeight(), c.delta_weight);
        // On the original weight the converted LoRA must merge to what the residual adapter merges to.
        chk.compare('conversion_to_lora: W + delta', tf.add(tf.tensor2d(v.inputs.W), lora.deltaWeight()), e.merged_weight ?? []);
      }
    });
    lora.dispose();
    tf.dispose(Object.values(exp.params));
  }

  layer.merge({ safe: true });
  tf.tidy(() => {
    if (e.merged_weight) chk.compare('merge(): base weight', layer.base.weight, e.merged_weight);
    chk.compare('merged forward', layer.forward(x), e.y);
  });
  layer.unmerge();
  chk.compare('unmerge(merge(W)) == W', layer.base.weight, wBase);
}

/** Run one vector; never throws (a thrown error is a failure with its message). */
export function runVector(v: ConformanceVector, file: string): VectorResult {
  const chk = new FieldChecker();
  const owned: tf.Tensor[] = [];
  let base: LinearLayer | null = null;
  let layer: AdapterLayer | null = null;
  const result = (status: 'pass' | 'fail', detail: string): VectorResult => ({ id: v.id ?? file, file, status, worst: chk.checked.length ? chk.worst : null, detail });
  try {
    let cfg: AdapterConfig;
    try {
      // A vector with an init section checks our fresh init; otherwise its params overwrite the init, as a load does.
      cfg = parsePeftConfig(v.config, { method: v.method, where: VECTOR_MODULE, use: v.init ? 'create' : 'load' }).adapter;
    } catch (err) {
      return result('fail', `unsupported: ${(err as Error).message}`);
    }
    const t = <T extends tf.Tensor>(x: T): T => (owned.push(x), x);
    const w = t(tf.tensor2d(v.inputs.W));
    base = createLinear(VECTOR_MODULE, w, v.inputs.bias ? t(tf.tensor1d(v.inputs.bias)) : null);
    const x = t(tf.tensor2d(v.inputs.x));
    const g = t(tf.tensor2d(v.inputs.g));
    const init = v.init ?? {};
    const ctx: CreateContext = { seed: 0 };
    if (Array.isArray(init.omega)) ctx.omega = init.omega as number[][];
    if (Array.isArray(init.grad)) ctx.initGrad = t(tf.tensor2d(init.grad as number[][]));
    if (Array.isArray(init.idx_A) && Array.isArray(init.idx_B)) ctx.loraGaIndices = { a: init.idx_A as number[], b: init.idx_B as number[] };
    layer = createAdapter(base, cfg, ctx);
    const residual = RESIDUAL_KINDS.includes(cfg.kind);
    if (residual) checkResidualInit(v, layer, chk);
    else if (v.init) checkFreshInit(v, layer, x, g, chk);

    // The expected section is evaluated at the vector's params, on W_res for residual methods.
    const wBase = residual ? (init.W_res as number[][] | undefined) : v.inputs.W;
    if (!wBase) return result('fail', `${cfg.kind} vector has no init.W_res to evaluate on`);
    if (residual) tf.tidy(() => base!.weight.assign(tf.tensor2d(wBase)));
    const values: Record<string, Nested> = {};
    for (const [k, val] of Object.entries(v.params)) values[pname(k)] = val;
    assignParams(layer, values as Record<string, number[]>);
    checkExpected(v, layer, wBase, x, g, chk);
    if (chk.failures.length) return result('fail', chk.failures.join('; '));
    return result('pass', `${chk.checked.length} fields`);
  } catch (err) {
    return result('fail', `error: ${(err as Error).message}`);
  } finally {
    layer?.dispose();
    base?.dispose();
    tf.dispose(owned);
  }
}

/** Run every vector in a folder (errors.json as one entry). */
export function runConformance(dir: string): VectorResult[] {
  return loadVectorFolder(dir).map(({ file, vector, error }) => {
    if (!vector) return { id: file.replace(/\.json$/, ''), file, status: 'fail', worst: null, detail: error ?? 'unreadable' };
    return isErrorsFile(vector) ? runErrorsFile(vector, file) : runVector(vector, file);
  });
}

/** One line per result: id, PASS/FAIL, worst relative error, detail. */
export function formatResult(r: VectorResult, idWidth = 40): string {
  const worst = r.worst === null ? '-' : r.worst.toExponential(2);
  return `${r.id.padEnd(idWidth)}  ${r.status === 'pass' ? 'PASS' : 'FAIL'}  worst ${worst.padEnd(9)}  ${r.detail}`;
}
