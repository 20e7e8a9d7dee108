/**
 * `bonelab pretrain [--arch llama|rwkv6] [--preset tiny|small] [--seed N] [--corpus file.txt] [--steps N] [--force]`:
 * build (or reuse from .cache/bases) the kit's pretrained base model and print its folder and losses.
 */
import { initBackend } from '../backend';
import { ensureBaseModel, readBaseInfo } from '../train/pretrain';
import type { BaseArch, BasePresetName } from '../train/base-presets';
import { intOption, parseCli } from './args';

const USAGE = 'usage: bonelab pretrain [--arch llama|rwkv6] [--preset tiny|small] [--seed N] [--corpus file.txt] [--steps N] [--force] [--backend wasm|cpu]';

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCli('pretrain', argv, {
    arch: { type: 'string', default: 'llama' },
    preset: { type: 'string', default: 'tiny' },
    seed: { type: 'string' },
    corpus: { type: 'string' },
    steps: { type: 'string' },
    force: { type: 'boolean', default: false },
    backend: { type: 'string' },
  }, USAGE);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const backend = await initBackend(values.backend);
  const steps = intOption('pretrain', 'steps', values.steps, 1);
  const dir = await ensureBaseModel({
    arch: values.arch as BaseArch,
    preset: values.preset as BasePresetName,
    seed: intOption('pretrain', 'seed', values.seed, 0) ?? 0,
    corpusFile: values.corpus ?? null,
    steps,
    force: values.force,
    progress: true,
  });
  const info = readBaseInfo(dir);
  console.log(
    JSON.stringify({
      dir,
      backend,
      arch: info.arch,
      preset: info.preset,
      params: info.num_params,
      vocab_size: info.vocab_size,
      steps: info.steps,
      corpus_tokens: info.corpus.tokens,
      initial_val_loss: +info.initial_val_loss.toFixed(4),
      final_val_loss: +info.final_val_loss.toFixed(4),
      final_train_loss: +info.final_train_loss.toFixed(4),
      wall_s: +info.wall_s.toFixed(1),
      tokens_per_s: Math.round(info.tokens_per_s),
    }),
  );
  return 0;
}
