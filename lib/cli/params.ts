/**
 * `bonelab params`: trainable parameter count of an adapter on a model, from shapes alone (no weights, no tfjs).
 *
 *   bonelab params --model <preset|config.json> --method <bone|bat|mini|lora|pissa|olora|dora|loraga|full>
 *                  [--r N] [--alpha A] [--mini-r N] [--targets all-linear|q_proj,v_proj|re:<regex>]
 *                  [--convention out-block|in-block]
 *
 * Prints a short breakdown, then the count as the last line (a plain integer). Adapter methods sum the closed-form
 * count over the selected linears; `full` counts every model parameter (embeddings, norms, head unless tied, linears).
 */
import { parseArgs } from 'node:util';
import { ADAPTER_KINDS, getSpec, isAdapterKind, resolveAdapterConfig, validateAdapterConfig } from '../adapters/registry';
import type { AdapterConfig, AdapterSpec } from '../adapters/types';
import { PRESETS, countModelParams, listLinears, resolveModelShape, type ModelShape } from '../models/presets';
import { layerLocalName, selectTargets, type TargetSpec } from '../models/targets';
import { intOption, numberOption, parseCli, type CliOptionsConfig, type CliParsed } from './args';

export interface ParamsOptions {
  model: string;
  method: string;
  r?: number;
  alpha?: number;
  miniR?: number;
  targets?: TargetSpec;
  convention?: 'out-block' | 'in-block';
}

export interface ParamsReport {
  adapter: AdapterConfig;
  shape: ModelShape;
  /** Selected modules (empty for full fine-tuning). */
  modules: string[];
  trainable: number;
  total: number;
  /** Human-readable breakdown lines (without the final count). */
  lines: string[];
}

/** Options that only make sense for some methods: a stray one is a usage error rather than silently ignored. */
const APPLIES: Record<string, (kind: string) => boolean> = {
  r: (k) => k !== 'full',
  alpha: (k) => ['lora', 'pissa', 'olora', 'dora', 'loraga'].includes(k),
  miniR: (k) => k === 'mini',
  convention: (k) => k === 'bat',
  targets: (k) => k !== 'full',
};
const FLAG: Record<string, string> = { r: '--r', alpha: '--alpha', miniR: '--mini-r', convention: '--convention', targets: '--targets' };

function describe(a: AdapterConfig): string {
  const o = a as unknown as Record<string, unknown>;
  const parts = ['r', 'alpha', 'miniR', 'convention'].filter((k) => k in o).map((k) => `${k}=${o[k]}`);
  return [a.kind, ...parts].join(' ');
}

function describeModel(s: ModelShape): string {
  if (s.arch === 'llama')
    return `llama: ${s.numLayers} layers, hidden ${s.hiddenSize}, intermediate ${s.intermediateSize}, heads ${s.numHeads}/${s.numKvHeads} kv, vocab ${s.vocabSize}${s.tieWordEmbeddings ? ', tied embeddings' : ''}`;
  const c = s.config;
  return `rwkv6: ${c.n_layer} layers, n_embd ${c.n_embd}, dim_ffn ${c.dim_ffn}, head size ${c.head_size}, vocab ${c.vocab_size}`;
}

/** Compute the count and its breakdown; throws (naming the module and its dimensions) when the adapter cannot apply. */
export function paramsReport(opts: ParamsOptions): ParamsReport {
  const kind = opts.method;
  if (!isAdapterKind(kind)) throw new Error(`params: unknown --method '${kind}' (known: ${ADAPTER_KINDS.join(', ')})`);
  for (const k of Object.keys(APPLIES)) {
    if ((opts as unknown as Record<string, unknown>)[k] !== undefined && !APPLIES[k](kind))
      throw new Error(`params: ${FLAG[k]} does not apply to --method ${kind}`);
  }
  const partial: { kind: string; [k: string]: unknown } = { kind };
  if (opts.r !== undefined) partial.r = opts.r;
  if (opts.alpha !== undefined) partial.alpha = opts.alpha;
  if (opts.miniR !== undefined) partial.miniR = opts.miniR;
  if (opts.convention !== undefined) partial.convention = opts.convention;
  const adapter = resolveAdapterConfig(partial);
  const { shape, source } = resolveModelShape(opts.model);
  const model = countModelParams(shape);
  const lines = [`model    ${source} (${describeModel(shape)})`, `method   ${describe(adapter)}`];

  if (adapter.kind === 'full') {
    lines.push(
      `full fine-tuning: every parameter`,
      `  embeddings ${model.embeddings}`,
      `  linears    ${model.linears}`,
      `  norms      ${model.norms}`,
      `  head       ${model.head}${shape.arch === 'llama' && shape.tieWordEmbeddings ? ' (tied to the embeddings)' : ''}`,
    );
    if (model.other) lines.push(`  other      ${model.other} (token-shift, decay and bonus parameters)`);
    lines.push(`trainable ${model.total} of ${model.total} (100%)`);
    return { adapter, shape, modules: [], trainable: model.total, total: model.total, lines };
  }

  const targets = opts.targets ?? 'all-linear';
  const linears = listLinears(shape);
  const chosen = new Set(selectTargets(linears.map((l) => l.name), targets));
  const spec = getSpec(adapter.kind) as AdapterSpec;
  // One row per layer-local module name (q_proj, att.key, ...), in model order.
  const rows = new Map<string, { out: number; in: number; count: number; each: number }>();
  let trainable = 0;
  for (const l of linears) {
    if (!chosen.has(l.name)) continue;
    const dims = { out: l.out, in: l.in };
    try {
      validateAdapterConfig(adapter, dims, l.name);
    } catch (e) {
      const msg = (e as Error).message;
      // Name the module and its dimensions even if the method's own message does not.
      const named = msg.includes(l.name) && msg.includes(String(l.out)) && msg.includes(String(l.in));
      throw new Error(named ? `params: ${msg}` : `params: ${describe(adapter)} cannot apply to ${l.name} [out=${l.out}, in=${l.in}]: ${msg}`);
    }
    const n = spec.numParams(adapter, dims);
    trainable += n;
    const key = layerLocalName(l.name);
    const row = rows.get(key);
    if (row && (row.out !== l.out || row.in !== l.in)) rows.set(`${l.name}`, { out: l.out, in: l.in, count: 1, each: n });
    else if (row) row.count++;
    else rows.set(key, { out: l.out, in: l.in, count: 1, each: n });
  }
  const w = Math.max(...[...rows.keys()].map((k) => k.length));
  lines.push(`targets  ${Array.isArray(targets) ? targets.join(',') : targets}: ${chosen.size} of ${linears.length} linear modules`);
  for (const [k, r] of rows) lines.push(`  ${k.padEnd(w)}  [${r.out}, ${r.in}] x${r.count}  ${r.each} each  ${r.each * r.count}`);
  lines.push(`trainable ${trainable} of ${model.total} (${((100 * trainable) / model.total).toFixed(4)}%)`);
  return { adapter, shape, modules: [...chosen], trainable, total: model.total, lines };
}

const USAGE = `usage: bonelab params --model <${Object.keys(PRESETS).join('|')}|config.json> --method <${ADAPTER_KINDS.join('|')}>
       [--r N] [--alpha A] [--mini-r N] [--targets all-linear|q_proj,v_proj,...|re:<regex>] [--convention out-block|in-block]`;

const OPTIONS = {
  model: { type: 'string' },
  method: { type: 'string' },
  r: { type: 'string' },
  alpha: { type: 'string' },
  'mini-r': { type: 'string' },
  targets: { type: 'string' },
  convention: { type: 'string' },
} satisfies CliOptionsConfig;

/** Parse argv into ParamsOptions (usage errors throw). */
export function parseParamsArgs(argv: string[]): ParamsOptions {
  return paramsOptions(parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values);
}

/** Check the parsed flags and turn them into ParamsOptions (usage errors throw). */
function paramsOptions(values: CliParsed<typeof OPTIONS>['values']): ParamsOptions {
  if (!values.model) throw new Error('params: --model is required');
  if (!values.method) throw new Error('params: --method is required');
  const conv = values.convention;
  if (conv !== undefined && conv !== 'out-block' && conv !== 'in-block') throw new Error(`params: --convention must be out-block or in-block, got '${conv}'`);
  let targets: TargetSpec | undefined;
  if (values.targets !== undefined) {
    const t = values.targets.trim();
    // A regex may contain commas, so 're:' takes the whole value.
    targets = t === 'all-linear' || t.startsWith('re:') ? t : t.split(',').map((s) => s.trim());
  }
  return {
    model: values.model,
    method: values.method,
    r: intOption('params', 'r', values.r, 1),
    // any finite number, not only an integer
    alpha: numberOption('params', 'alpha', values.alpha),
    miniR: intOption('params', 'mini-r', values['mini-r'], 1),
    targets,
    convention: conv as ParamsOptions['convention'],
  };
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCli('params', argv, OPTIONS, USAGE);
  if (typeof parsed === 'number') return parsed;
  let opts: ParamsOptions;
  try {
    opts = paramsOptions(parsed.values);
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const rep = paramsReport(opts);
    for (const l of rep.lines) console.log(l);
    console.log(String(rep.trainable));
    return 0;
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  }
}
