/**
 * The kit's base model: a tiny LLaMA (or RWKV6) pretrained on the generated corpus, mixed at a lower weight with
 * word-problem questions from the train split (never solutions, never the eval split), with a char-level tokenizer.
 * Built deterministically from (arch, preset, seed, corpus) and cached as an HF folder under
 * .cache/bases/<arch>-<preset>-<hash>/ (config.json, model.safetensors, tokenizer files, base.json with the recipe and
 * the loss curve). A cached folder is validated before reuse and rebuilt when corrupt; concurrent callers (grid
 * workers) wait for one builder through a lock file.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateCorpus, loadTextCorpus } from '../../datasets/corpus';
import { generateWordProblems } from '../../datasets/wordproblems';
import { lmBatch, lmWindows, splitStream } from '../data/lm';
import { evalLoss } from '../eval/loss';
import { saveModel } from '../models/hf-checkpoint';
import { createLlama } from '../models/llama';
import { loadModel } from '../models/load';
import { rwkv6Defaults, type Rwkv6Config } from '../models/rwkv6-config';
import { createRwkv6, Rwkv6Model } from '../models/rwkv6';
import { saveRwkv6 } from '../models/rwkv6-checkpoint';
import type { CausalLM } from '../models/types';
import { buildCharTokenizer, frequentWords } from '../tokenizer/char';
import { loadTokenizer, saveTokenizer, type Tokenizer } from '../tokenizer/tokenizer';
import { readJson, writeJsonAtomic } from '../util/fs';
import { releaseLock, tryLock } from '../util/lock';
import { deriveSeed, Rng } from '../util/random';
import { basePreset, type BaseArch, type BasePreset, type BasePresetName } from './base-presets';
import { trainLoop } from './loop';
import { collectTrainParams } from './params';

/** Bumped whenever the recipe changes in a way the preset table does not show, so old caches are not reused. */
export const PRETRAIN_VERSION = 1;
export const BASE_INFO_FILE = 'base.json';
export const DEFAULT_BASES_DIR = path.resolve(__dirname, '..', '..', '.cache', 'bases');

export interface BaseSpec {
  arch: BaseArch;
  preset: BasePresetName;
  seed: number;
  /** A text file to pretrain on instead of the generated corpus (no word-problem questions are mixed in then). */
  corpusFile?: string | null;
}

export interface BaseInfo {
  format: 'bonelab-base';
  version: number;
  hash: string;
  arch: BaseArch;
  preset: BasePresetName;
  seed: number;
  recipe: BasePreset;
  corpus: { source: string; chars: number; tokens: number; questionLines: number };
  vocab_size: number;
  num_params: number;
  steps: number;
  initial_val_loss: number;
  final_val_loss: number;
  final_train_loss: number;
  wall_s: number;
  tokens_per_s: number;
  curve: { step: number; train_loss: number; eval_loss?: number }[];
  created_at: string;
}

export interface EnsureOptions extends BaseSpec {
  /** Rebuild even when a valid cached folder exists. */
  force?: boolean;
  /** Cache root (default .cache/bases in the project). */
  cacheDir?: string;
  /** Show a progress bar while pretraining. */
  progress?: boolean;
  /** Status lines (building, reusing, waiting); default stderr. */
  log?: (line: string) => void;
  /** Override the preset's step count (tests and smoke runs). */
  steps?: number;
}

function corpusId(file: string | null | undefined): string {
  if (!file) return 'generated';
  if (!fs.existsSync(file)) throw new Error(`pretrain corpus not found: ${file}`);
  const h = createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16);
  return `file:${path.basename(file)}:${h}`;
}

/** Hash of everything that determines the weights; names the cache folder. */
export function baseHash(spec: BaseSpec, steps?: number): string {
  const recipe = { ...basePreset(spec.arch, spec.preset), ...(steps !== undefined ? { steps } : {}) };
  const key = JSON.stringify({ v: PRETRAIN_VERSION, arch: spec.arch, preset: spec.preset, seed: spec.seed, recipe, corpus: corpusId(spec.corpusFile) });
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/** The cache folder of a spec. */
export function baseDir(spec: BaseSpec, cacheDir = DEFAULT_BASES_DIR, steps?: number): string {
  return path.join(cacheDir, `${spec.arch}-${spec.preset}-${baseHash(spec, steps)}`);
}

/**
 * The pretraining text: generated corpus paragraphs and (share p of the characters) word-problem questions from the
 * train split, one per line, shuffled together with a seeded Rng. A corpus file is used as is.
 */
export function pretrainText(spec: BaseSpec, p: BasePreset): { text: string; source: string; questionLines: number } {
  if (spec.corpusFile) return { text: loadTextCorpus(spec.corpusFile, { chars: p.corpusChars }), source: spec.corpusFile, questionLines: 0 };
  const qChars = Math.round(p.corpusChars * p.questionShare);
  const lines = generateCorpus({ seed: spec.seed, chars: p.corpusChars - qChars }).split('\n');
  const questions: string[] = [];
  let have = 0;
  // problem i depends only on (seed, split, i), so a longer list extends a shorter one
  for (let n = 64; have < qChars; n *= 2) {
    const more = generateWordProblems({ seed: deriveSeed(spec.seed, 'pretrain-questions'), n, split: 'train' }).slice(questions.length);
    for (const q of more) {
      if (have >= qChars) break;
      questions.push(q.question);
      have += q.question.length + 1;
    }
  }
  const all = new Rng(deriveSeed(spec.seed, 'pretrain-mix')).shuffle([...lines, ...questions]);
  return { text: all.join('\n'), source: 'generated corpus + train-split word-problem questions', questionLines: questions.length };
}

function createBase(arch: BaseArch, p: BasePreset, tok: Tokenizer, seed: number): CausalLM {
  if (arch === 'rwkv6') return createRwkv6(rwkv6Defaults({ ...(p.model as Partial<Rwkv6Config>), vocab_size: tok.vocabSize } as Rwkv6Config), { seed });
  return createLlama({ ...p.model, vocab_size: tok.vocabSize, bos_token_id: tok.bosId, eos_token_id: tok.eosId, pad_token_id: tok.padId }, { seed });
}

async function saveBase(model: CausalLM, dir: string): Promise<void> {
  if (model instanceof Rwkv6Model) saveRwkv6(model, dir);
  else await saveModel(model, dir);
}

/** Pretrain a base into `dir` (created; must not exist). Returns its info (also written to base.json). */
export async function pretrainBase(spec: BaseSpec, dir: string, opts: { progress?: boolean; steps?: number; signal?: AbortSignal } = {}): Promise<BaseInfo> {
  const p = { ...basePreset(spec.arch, spec.preset), ...(opts.steps !== undefined ? { steps: opts.steps } : {}) };
  if (!Number.isInteger(spec.seed)) throw new Error(`pretrain: seed must be an integer, got ${spec.seed}`);
  const { text, source, questionLines } = pretrainText(spec, p);
  const tok = buildCharTokenizer(text, {
    numbers: p.tokenizer === 'char-numbers',
    words: p.tokenizer === 'words' ? frequentWords(text, 2) : undefined,
  });
  const stream = Int32Array.from(tok.encode(text));
  const { train, val } = splitStream(stream, p.valFraction);
  const evalBatches = lmWindows(val, { batchSize: p.batchSize, seqLen: p.seqLen }).slice(0, p.evalBatches);
  const model = createBase(spec.arch, p, tok, deriveSeed(spec.seed, 'pretrain-init'));
  try {
    for (const v of model.parameters().values()) v.trainable = true;
    const params = collectTrainParams(model, { loraPlusRatio: null });
    const initialVal = evalLoss(model, evalBatches).loss;
    const batchSeed = deriveSeed(spec.seed, 'pretrain-batches');
    const out = await trainLoop({
      model,
      params,
      batchAt: (i) => lmBatch(train, i, { batchSize: p.batchSize, seqLen: p.seqLen, seed: batchSeed, repeatShare: p.repeatShare }),
      steps: p.steps,
      gradAccum: 1,
      optimizer: { lr: p.lr, weightDecay: p.weightDecay, beta1: 0.9, beta2: 0.95, eps: 1e-8, loraPlusRatio: null, clipNorm: 1 },
      schedule: { kind: 'cosine', warmupSteps: Math.min(p.warmupSteps, p.steps) },
      evalEvery: p.evalEvery,
      evalBatches,
      signal: opts.signal,
      progressLabel: opts.progress ? `pretrain ${spec.arch}-${spec.preset}` : undefined,
    });
    if (out.status !== 'ok') throw new Error(`pretrain ${spec.arch}-${spec.preset}: ${out.status}${out.divergedAtStep ? ` at step ${out.divergedAtStep}` : ''}`);
    for (const v of model.parameters().values()) v.trainable = false;
    const finalVal = evalLoss(model, evalBatches).loss;
    const last = out.metrics.slice(-10);
    const info: BaseInfo = {
      format: 'bonelab-base',
      version: PRETRAIN_VERSION,
      hash: baseHash(spec, opts.steps),
      arch: spec.arch,
      preset: spec.preset,
      seed: spec.seed,
      recipe: p,
      corpus: { source, chars: text.length, tokens: stream.length, questionLines },
      vocab_size: tok.vocabSize,
      num_params: [...model.parameters().values()].reduce((a, v) => a + v.size, 0),
      steps: out.stepsDone,
      initial_val_loss: initialVal,
      final_val_loss: finalVal,
      final_train_loss: last.reduce((a, m) => a + m.train_loss, 0) / last.length,
      wall_s: out.wallS,
      tokens_per_s: (out.stepsDone * p.batchSize * p.seqLen) / out.wallS,
      curve: out.metrics.map((m) => ({ step: m.step, train_loss: m.train_loss, ...(m.eval_loss !== undefined ? { eval_loss: m.eval_loss } : {}) })),
      created_at: new Date().toISOString(),
    };
    fs.mkdirSync(dir, { recursive: true });
    await saveBase(model, dir);
    saveTokenizer(tok, dir);
    writeJsonAtomic(path.join(dir, BASE_INFO_FILE), info); // written last: its presence marks a complete folder
    return info;
  } finally {
    model.dispose();
  }
}

/** Why a cached base folder cannot be used (null when it can): missing files, wrong hash, unreadable weights. */
export function checkBaseDir(dir: string, hash: string): string | null {
  const infoFile = path.join(dir, BASE_INFO_FILE);
  if (!fs.existsSync(infoFile)) return `no ${BASE_INFO_FILE} (interrupted build?)`;
  let info: BaseInfo;
  try {
    info = readJson<BaseInfo>(infoFile);
  } catch (e) {
    return (e as Error).message;
  }
  if (info.format !== 'bonelab-base' || info.hash !== hash) return `${BASE_INFO_FILE} is for hash ${info.hash}, expected ${hash}`;
  try {
    const tok = loadTokenizer(dir);
    const model = loadModel(dir); // reads every tensor and checks names and shapes against config.json
    const vocab = model.vocabSize;
    model.dispose();
    if (vocab < tok.vocabSize) return `model vocab_size ${vocab} is smaller than the tokenizer's ${tok.vocabSize}`;
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}

/**
 * The folder of a valid pretrained base for `opts`, building it if absent, corrupt or `force`d. Safe to call from
 * several processes at once: one builds, the others wait for it.
 */
export async function ensureBaseModel(opts: EnsureOptions): Promise<string> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  basePreset(opts.arch, opts.preset); // unknown arch / preset: a clear error before anything else
  const cacheDir = opts.cacheDir ?? DEFAULT_BASES_DIR;
  const hash = baseHash(opts, opts.steps);
  const dir = baseDir(opts, cacheDir, opts.steps);
  const lock = `${dir}.lock`;
  fs.mkdirSync(cacheDir, { recursive: true });
  for (let waited = 0; ; waited++) {
    if (!opts.force && fs.existsSync(dir)) {
      const why = checkBaseDir(dir, hash);
      if (why === null) return dir;
      if (!fs.existsSync(lock)) log(`base model ${dir} is unusable (${why}); rebuilding`);
    }
    if (tryLock(lock).ok) break;
    if (waited === 0) log(`waiting for another process to build ${dir}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  try {
    if (!opts.force && fs.existsSync(dir) && checkBaseDir(dir, hash) === null) return dir; // built while we waited
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    log(`pretraining base model ${path.basename(dir)} (${opts.arch}, preset ${opts.preset}, seed ${opts.seed})`);
    const info = await pretrainBase(opts, tmp, { progress: opts.progress, steps: opts.steps });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    log(`base model ready: ${info.num_params} parameters, val loss ${info.initial_val_loss.toFixed(3)} -> ${info.final_val_loss.toFixed(3)} in ${info.wall_s.toFixed(0)} s`);
    return dir;
  } finally {
    releaseLock(lock);
  }
}

/** The info file of a base folder. */
export function readBaseInfo(dir: string): BaseInfo {
  return readJson<BaseInfo>(path.join(dir, BASE_INFO_FILE));
}
