/**
 * Every adapter method by kind, and the functions the rest of the kit uses to resolve, validate, count and create
 * adapters. Adding a method: one file exporting its AdapterSpec and FieldTable, and one line in each table below.
 */
import { BAT, BAT_FIELDS } from './bat';
import { BONE, BONE_FIELDS, MINI, MINI_FIELDS } from './bone';
import { DORA, DORA_FIELDS } from './dora';
import { FULL, FULL_FIELDS } from './full';
import { LORA, LORA_FIELDS } from './lora';
import { LORAGA, LORAGA_FIELDS } from './loraga';
import { OLORA, OLORA_FIELDS } from './olora';
import { PISSA, PISSA_FIELDS } from './pissa';
import { checkFields, type FieldSpec } from './schema';
import {
  AdapterConfigError,
  type AdapterConfig,
  type AdapterKind,
  type AdapterLayer,
  type AdapterShape,
  type AdapterSpec,
  type CreateContext,
  type LinearBase,
} from './types';

type ConfigOf<K extends AdapterKind> = Extract<AdapterConfig, { kind: K }>;

export const ADAPTERS: { readonly [K in AdapterKind]: AdapterSpec<ConfigOf<K>> } = {
  bone: BONE,
  mini: MINI,
  bat: BAT,
  lora: LORA,
  pissa: PISSA,
  olora: OLORA,
  dora: DORA,
  loraga: LORAGA,
  full: FULL,
};

/** The typed fields of each kind (everything but `kind`). */
export const ADAPTER_FIELDS: { readonly [K in AdapterKind]: Record<string, FieldSpec> } = {
  bone: BONE_FIELDS,
  mini: MINI_FIELDS,
  bat: BAT_FIELDS,
  lora: LORA_FIELDS,
  pissa: PISSA_FIELDS,
  olora: OLORA_FIELDS,
  dora: DORA_FIELDS,
  loraga: LORAGA_FIELDS,
  full: FULL_FIELDS,
};

export const ADAPTER_KINDS = Object.keys(ADAPTERS) as AdapterKind[];

export function isAdapterKind(kind: unknown): kind is AdapterKind {
  return typeof kind === 'string' && Object.prototype.hasOwnProperty.call(ADAPTERS, kind);
}

/** The spec of a kind; throws naming the kind and the known ones. */
export function getSpec<K extends AdapterKind>(kind: K): AdapterSpec<ConfigOf<K>> {
  if (!isAdapterKind(kind)) {
    throw new AdapterConfigError(`adapter config: unknown kind ${JSON.stringify(kind)} (known: ${ADAPTER_KINDS.join(', ')})`);
  }
  return (ADAPTERS as Record<AdapterKind, AdapterSpec>)[kind] as unknown as AdapterSpec<ConfigOf<K>>;
}

/** A fresh copy of a kind's defaults. */
export function adapterDefaults<K extends AdapterKind>(kind: K): ConfigOf<K> {
  return { ...getSpec(kind).defaults };
}

/**
 * Fill a partial config ({kind, ...some fields}) with the kind's defaults. Unknown keys and wrong types are rejected
 * with an AdapterConfigError naming the field and the value. Returns a new object.
 */
export function resolveAdapterConfig(partial: { kind: string; [field: string]: unknown }): AdapterConfig {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) {
    throw new AdapterConfigError(`adapter config: expected an object with a 'kind', got ${JSON.stringify(partial)}`);
  }
  const kind = partial.kind;
  if (!isAdapterKind(kind)) {
    throw new AdapterConfigError(`adapter config: unknown kind ${JSON.stringify(kind)} (known: ${ADAPTER_KINDS.join(', ')})`);
  }
  const cfg = { ...adapterDefaults(kind), ...partial } as Record<string, unknown>;
  checkFields(kind, ADAPTER_FIELDS[kind], cfg);
  return cfg as unknown as AdapterConfig;
}

/** Field types, then the method's own checks against a layer shape; errors name `where` (the module path). */
export function validateAdapterConfig(cfg: AdapterConfig, shape: AdapterShape, where: string): void {
  const spec = getSpec(cfg?.kind);
  try {
    checkFields(cfg.kind, ADAPTER_FIELDS[cfg.kind], cfg as unknown as Record<string, unknown>);
  } catch (e) {
    if (e instanceof AdapterConfigError) throw new AdapterConfigError(`${where}: ${e.message}`);
    throw e;
  }
  (spec as AdapterSpec).validate(cfg, shape, where);
}

/** Closed-form trainable parameter count of cfg on one [out, in] linear (validated first). */
export function numAdapterParams(cfg: AdapterConfig, shape: AdapterShape): number {
  validateAdapterConfig(cfg, shape, `[${shape.out}, ${shape.in}] linear`);
  return (getSpec(cfg.kind) as AdapterSpec).numParams(cfg, shape);
}

/** Validate cfg against base's shape, then build the adapter (may modify base.weight: PiSSA, OLoRA, LoRA-GA, full). */
export function createAdapter(base: LinearBase, cfg: AdapterConfig, ctx: CreateContext): AdapterLayer {
  validateAdapterConfig(cfg, { out: base.outFeatures, in: base.inFeatures, bias: base.bias !== null }, base.name);
  return (getSpec(cfg.kind) as AdapterSpec).create(base, cfg, ctx);
}
