import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { assertNoLeak, setupBackend } from '../util';
import { generateCorpus } from '../../datasets/corpus';
import { generateWordProblems } from '../../datasets/wordproblems';
import { basePreset } from '../../lib/train/base-presets';
import { baseDir, checkBaseDir, ensureBaseModel, pretrainText, readBaseInfo, baseHash } from '../../lib/train/pretrain';
import { runExperiment } from '../../lib/train/run';
import { resolveExperiment } from '../../lib/experiments/config';
import { loadModel } from '../../lib/models/load';
import { numAdapterParams } from '../../lib/adapters/registry';
import type { ExperimentConfig } from '../../lib/experiments/types';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bonelab-base-'));
const corpus = path.join(root, 'corpus.txt');
const silent = () => {};
let base = '';

test.before(async () => {
  await setupBackend();
  fs.writeFileSync(corpus, generateCorpus({ seed: 3, chars: 30_000 }));
});

test.after(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

test('pretraining text mixes train-split questions in and never an eval-split problem', () => {
  const p = { ...basePreset('llama', 'tiny'), corpusChars: 60_000 };
  const { text, questionLines } = pretrainText({ arch: 'llama', preset: 'tiny', seed: 0 }, p);
  assert.ok(questionLines > 20, `questions mixed in: ${questionLines}`);
  assert.ok(Math.abs(text.length - 60_000) < 500, `about corpusChars characters (${text.length})`);
  const lines = new Set(text.split('\n'));
  const evalSet = generateWordProblems({ seed: 0, n: 500, split: 'eval' });
  const leaked = evalSet.filter((e) => lines.has(e.question));
  assert.is(leaked.length, 0, 'no eval question appears in the pretraining text');
  assert.not.ok(/The answer is/.test(text), 'no solutions in the corpus');
  const again = pretrainText({ arch: 'llama', preset: 'tiny', seed: 0 }, p);
  assert.is(again.text, text, 'deterministic');
});

test('ensureBaseModel builds a valid cached HF folder, reuses it, and rebuilds it when corrupt', async () => {
  await assertNoLeak('ensureBaseModel', async () => {
    const spec = { arch: 'llama' as const, preset: 'tiny' as const, seed: 0, corpusFile: corpus, cacheDir: root, steps: 2, log: silent };
    base = await ensureBaseModel(spec);
    assert.is(base, baseDir(spec, root, 2));
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'base.json']) assert.ok(fs.existsSync(path.join(base, f)), f);
    const info = readBaseInfo(base);
    assert.is(info.steps, 2);
    assert.ok(info.final_val_loss < info.initial_val_loss, `val loss falls (${info.initial_val_loss} -> ${info.final_val_loss})`);
    assert.is(checkBaseDir(base, baseHash(spec, 2)), null);
    const m = loadModel(base);
    assert.is(m.vocabSize, info.vocab_size);
    m.dispose();

    const mtime = fs.statSync(path.join(base, 'model.safetensors')).mtimeMs;
    assert.is(await ensureBaseModel(spec), base);
    assert.is(fs.statSync(path.join(base, 'model.safetensors')).mtimeMs, mtime, 'a valid cache is reused, not rebuilt');

    const weights = fs.readFileSync(path.join(base, 'model.safetensors'));
    fs.writeFileSync(path.join(base, 'model.safetensors'), weights.subarray(0, weights.length - 100));
    assert.match(checkBaseDir(base, baseHash(spec, 2)) ?? '', /model.safetensors/, 'corruption is detected');
    assert.is(await ensureBaseModel(spec), base);
    assert.is(checkBaseDir(base, baseHash(spec, 2)), null, 'rebuilt');
    assert.ok(fs.readFileSync(path.join(base, 'model.safetensors')).equals(weights), 'the rebuild is bit-identical (deterministic pretraining)');
    assert.throws(() => baseHash({ arch: 'llama', preset: 'huge' as never, seed: 0 }), /unknown preset 'huge'/);
  });
});

function config(over: Record<string, unknown>): ExperimentConfig {
  return resolveExperiment(
    {
      name: 'test',
      variant: 'v',
      model: { arch: 'llama', source: base, preset: 'tiny' },
      data: { task: 'wordproblems', path: null, trainExamples: 24, evalExamples: 4, maxLength: 256 },
      steps: 3,
      batchSize: 4,
      eval: { every: 2, generateExamples: 2, maxNewTokens: 8 },
    },
    over,
  );
}

test('runExperiment returns a complete result, counts parameters exactly and leaks nothing', async () => {
  await assertNoLeak('runExperiment', async () => {
    const cfg = config({ adapter: { kind: 'bone', r: 4 } });
    const steps: number[] = [];
    const r = await runExperiment(cfg, { onStep: (m) => steps.push(m.step) });
    assert.is(r.train_info.status, 'ok', r.run_info.error_msg ?? '');
    assert.equal(steps, [1, 2, 3]);
    assert.is(r.train_info.metrics.length, 3);
    assert.ok(r.train_info.metrics[1].eval_loss !== undefined, 'held-out loss at step 2');
    const m = loadModel(base);
    const expected = [...m.linears()].filter(([n]) => n !== 'lm_head').reduce((a, [, l]) => a + numAdapterParams(cfg.adapter, { out: l.outFeatures, in: l.inFeatures }), 0);
    m.dispose();
    assert.is(r.train_info.num_trainable_params, expected);
    assert.is(r.train_info.initial_grad_norm, r.train_info.metrics[0].grad_norm);
    assert.ok(r.train_info.initial_grad_norm > 0);
    const f = r.train_info.final!;
    assert.is(f.n_eval, 2);
    assert.ok(f.accuracy >= 0 && f.accuracy <= 1);
    assert.ok(Number.isFinite(f.eval_loss) && Math.abs(f.eval_ppl - Math.exp(f.eval_loss)) < 1e-6 * f.eval_ppl);
    assert.is(f.samples.length, 2);
    assert.ok(r.train_info.step_ms_median > 0 && r.train_info.peak_rss_mb > 0);
    assert.is(r.meta_info.backend, tf.getBackend());
    const again = await runExperiment(cfg);
    assert.equal(again.train_info.metrics.map((x) => x.train_loss), r.train_info.metrics.map((x) => x.train_loss), 'same seed, same run');
  });
});

test('runExperiment: LoRA-GA runs its gradient pass; a bad config fails cleanly; an absurd lr diverges', async () => {
  await assertNoLeak('runExperiment edge cases', async () => {
    const ga = await runExperiment(config({ adapter: { kind: 'loraga', r: 2, alpha: 4 }, steps: 2, eval: { every: 0, generateExamples: 0 } }));
    assert.is(ga.train_info.status, 'ok', ga.run_info.error_msg ?? '');
    const bad = await runExperiment(config({ targets: ['no_such_proj'] }));
    assert.is(bad.train_info.status, 'failed');
    assert.match(bad.run_info.error_msg ?? '', /no_such_proj/);
    assert.is(bad.train_info.final, null);
    const div = await runExperiment(
      config({ adapter: { kind: 'full' }, steps: 20, optimizer: { lr: 1e30, clipNorm: null }, schedule: { kind: 'constant', warmupSteps: 0 }, eval: { every: 0 } }),
    );
    assert.is(div.train_info.status, 'diverged');
    assert.ok(div.train_info.diverged_at_step! >= 2, `diverged at ${div.train_info.diverged_at_step}`);
    assert.match(div.run_info.error_msg ?? '', /non-finite at step/);
  });
});

test.run();
