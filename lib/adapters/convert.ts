/**
 * Exact conversions to plain LoRA, as PEFT performs them:
 * - Bone / mini -> rank-r LoRA (lora/conversion.py): A[j, i] = 1 iff i mod r == j, B = D^T, alpha = r (scaling 1).
 * - PiSSA / OLoRA / LoRA-GA -> rank-2r LoRA on the ORIGINAL weight (path_initial_model_for_weight_conversion):
 *   A' = [A; A0], B' = [B | -B0], r' = 2r, alpha' = 2 alpha (sqrt(2) alpha with rsLoRA), so s' B' A' = s (B A - B0 A0).
 * - LoRA -> itself. DoRA, Bat and full fine-tuning have no exact LoRA form and are refused.
 */
import * as tf from '@tensorflow/tfjs';
import { BoneLayer, type BoneFamilyConfig } from './bone';
import { LoraLayer, type LoraFamilyConfig } from './lora';
import type { AdapterLayer, LinearBase, LoraConfig } from './types';

/** A plain LoRA adapter: config plus tensors under PEFT names (new tensors the caller disposes). */
export interface LoraExport {
  config: LoraConfig;
  params: { lora_A: tf.Tensor2D; lora_B: tf.Tensor2D; lora_B_bias?: tf.Tensor1D };
}

/** Bone or mini as an exactly equivalent rank-r LoRA with scaling 1. */
export function boneToLora(layer: BoneLayer<BoneFamilyConfig>): LoraExport {
  const { r } = layer.config;
  const inF = layer.base.inFeatures;
  const a = new Float32Array(r * inF);
  for (let i = 0; i < inF; i++) a[(i % r) * inF + i] = 1; // A[j, i] = 1 iff i mod r == j
  return {
    config: { kind: 'lora', r, alpha: r, rslora: false, init: 'kaiming', loraBias: false },
    params: {
      lora_A: tf.tensor2d(a, [r, inF]),
      lora_B: tf.tidy(() => tf.transpose(layer.fullBlock()) as tf.Tensor2D), // [out, r]
    },
  };
}

/** PiSSA / OLoRA / LoRA-GA (whose base holds the residual) as a rank-2r LoRA on the original weight. */
export function residualToLora(layer: LoraLayer<LoraFamilyConfig>): LoraExport {
  const init = layer.initialParams();
  if (!init) throw new Error(`${layer.base.name}: ${layer.kind} adapter kept no initial A0/B0, so it cannot be converted to a LoRA on the original weight`);
  const { r, alpha, rslora } = layer.config;
  try {
    return {
      config: { kind: 'lora', r: 2 * r, alpha: rslora ? Math.SQRT2 * alpha : 2 * alpha, rslora, init: 'kaiming', loraBias: false },
      params: {
        lora_A: tf.concat([layer.A, init.lora_A as tf.Tensor2D], 0), // [2r, in]
        lora_B: tf.tidy(() => tf.concat([layer.B, tf.neg(init.lora_B as tf.Tensor2D)], 1)), // [out, 2r]
      },
    };
  } finally {
    tf.dispose([init.lora_A, init.lora_B]);
  }
}

/** Any adapter with an exact LoRA form (lora, bone, mini, pissa, olora, loraga). */
export function toLora(layer: AdapterLayer): LoraExport {
  if (layer instanceof BoneLayer) return boneToLora(layer);
  if (layer instanceof LoraLayer && layer.kind === 'lora') {
    const l = layer as LoraLayer<LoraConfig>;
    const params: LoraExport['params'] = { lora_A: tf.clone(l.A), lora_B: tf.clone(l.B) };
    if (l.biasB) params.lora_B_bias = tf.clone(l.biasB);
    return { config: { ...l.config }, params };
  }
  if (layer instanceof LoraLayer && ['pissa', 'olora', 'loraga'].includes(layer.kind)) return residualToLora(layer);
  throw new Error(`${layer.base.name}: a ${layer.kind} adapter has no exact LoRA form (only lora, bone, mini, pissa, olora and loraga convert)`);
}

/** A LoRA layer on base holding an exported LoRA's values (e.g. to check the conversion's outputs). */
export function loraLayerFrom(base: LinearBase, exp: LoraExport): LoraLayer<LoraConfig> {
  return new LoraLayer(base, exp.config, {
    A: exp.params.lora_A.dataSync() as Float32Array,
    B: exp.params.lora_B.dataSync() as Float32Array,
    biasB: exp.params.lora_B_bias ? (exp.params.lora_B_bias.dataSync() as Float32Array) : null,
  });
}
