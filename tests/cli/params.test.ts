import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { paramsReport, parseParamsArgs } from '../../lib/cli/params';
import { TINY_LLAMA_DIR, throwsWith, withTmpDir } from '../util';

const ROOT = path.resolve(__dirname, '..', '..');
const TINY = path.join(TINY_LLAMA_DIR, 'config.json');

const count = (a: string) => paramsReport(parseParamsArgs(a.split(' '))).trainable;

function cli(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin', 'bonelab.ts'), 'params', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test("reproduces the paper's parameter counts exactly", () => {
  // Bone r=64 on all seven LLaMA2-7B linears vs LoRA r=36 (paper: 87.03M vs 89.95M).
  assert.is(count('--model llama2-7b --method bone --r 64'), 87031808);
  assert.is(count('--model llama2-7b --method lora --r 36'), 89948160);
  assert.is(count('--model llama2-7b --method pissa --r 36 --alpha 36'), 89948160, 'pissa counts as LoRA');
  assert.is(count('--model llama2-7b --method olora --r 36'), 89948160, 'olora counts as LoRA');
  // Mistral-7B (GQA): Bone 88.08M, LoRA r=34 89.13M.
  assert.is(count('--model mistral-7b --method bone --r 64'), 88080384);
  assert.is(count('--model mistral-7b --method lora --r 34'), 89128960);
  // Llama-3.2-3B q_proj/v_proj, r=64: 7,340,032.
  assert.is(count('--model llama-3.2-3b --method bone --r 64 --targets q_proj,v_proj'), 7340032);
  // RWKV6-7B, its 8 linears: Bone r=64 and LoRA r=32 both 88.08M.
  assert.is(count('--model rwkv6-7b --method bone --r 64'), 88080384);
  assert.is(count('--model rwkv6-7b --method lora --r 32'), 88080384);
  assert.is(count('--model rwkv6-7b --method bone --r 64 --targets att.receptance,att.key,att.value,att.gate,att.output,ffn.key,ffn.value,ffn.receptance'), 88080384);
});

test('per-method closed forms on LLaMA2-7B: bat, mini, dora, in-block bat, full', () => {
  assert.is(count('--model llama2-7b --method bat --r 64'), 87031808, 'bat out-block = r * out, as bone');
  // in-block Bat counts r * in: 4 * 4096 + 2 * 4096 + 11008 per layer.
  assert.is(count('--model llama2-7b --method bat --r 64 --convention in-block'), 64 * 32 * (6 * 4096 + 11008));
  assert.is(count('--model llama2-7b --method mini --r 64 --mini-r 8'), 64 * 8 * 7 * 32);
  // DoRA = LoRA + one magnitude per output feature.
  assert.is(count('--model llama2-7b --method dora --r 36'), 89948160 + 32 * (5 * 4096 + 2 * 11008));
  assert.is(count('--model llama2-7b --method full'), 6738415616, 'published Llama-2-7b size');
  assert.is(count('--model mistral-7b --method full'), 7241732096, 'published Mistral-7B size');
  assert.is(count('--model llama-3.2-3b --method full'), 3212749824, 'published Llama-3.2-3B size (tied head not counted twice)');
});

test('a config.json path works and full = every tensor in the checkpoint', () => {
  const rep = paramsReport({ model: TINY, method: 'bone', r: 8 });
  // outs: q 64, k 32, v 32, o 64, gate 160, up 160, down 64 per layer, 2 layers.
  assert.is(rep.trainable, 8 * 576 * 2);
  assert.is(rep.modules.length, 14);
  const st = fs.readFileSync(path.join(path.dirname(TINY), 'model.safetensors'));
  const n = Number(st.readBigUInt64LE(0));
  const header = JSON.parse(st.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape: number[] }>;
  const inFile = Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .reduce((a, [, v]) => a + v.shape.reduce((x, y) => x * y, 1), 0);
  assert.is(paramsReport({ model: TINY, method: 'full' }).trainable, inFile);
  assert.is(paramsReport({ model: path.dirname(TINY), method: 'full' }).trainable, inFile, 'a checkpoint folder works too');
});

test('an RWKV6 config file in the kit format is read', () =>
  withTmpDir('bonelab-params', (dir) => {
    const f = path.join(dir, 'config.json');
    fs.writeFileSync(f, JSON.stringify({ model_type: 'rwkv6', n_embd: 128, n_layer: 3, dim_ffn: 448, vocab_size: 500, head_size: 32 }));
    // Bone on the 8 linears: outs 4*128 + 128 (att.output) + 448 (ffn.key) + 128 + 128 = 1344 per block.
    assert.is(paramsReport({ model: f, method: 'bone', r: 4 }).trainable, 4 * 1344 * 3);
    assert.is(paramsReport({ model: f, method: 'lora', r: 2, targets: ['ffn.key'] }).trainable, 2 * (448 + 128) * 3);
  }),
);

test('errors: Bat r not dividing a module, unknown target, stray flags, bad values, unknown model', () => {
  throwsWith(() => paramsReport({ model: 'llama-3.2-3b', method: 'bat', r: 48 }), ['model.layers.0.self_attn.k_proj', '1024', '3072']);
  throwsWith(() => paramsReport({ model: 'llama2-7b', method: 'bone', targets: ['q_proj', 'qq_proj'] }), ["'qq_proj'", 'matches no']);
  throwsWith(() => paramsReport({ model: 'llama2-7b', method: 'lora', miniR: 4 }), ['--mini-r', 'lora']);
  throwsWith(() => paramsReport({ model: 'llama2-7b', method: 'full', r: 4 }), ['--r', 'full']);
  throwsWith(() => paramsReport({ model: 'llama2-7b', method: 'loha' }), ["'loha'", 'bone']);
  throwsWith(() => paramsReport({ model: 'llama-9b', method: 'bone' }), ["'llama-9b'", 'preset', 'llama2-7b']);
  throwsWith(() => paramsReport({ model: 'llama2-7b', method: 'mini', miniR: 3 }), ['mini_r', '3']);
  throwsWith(() => parseParamsArgs(['--model', 'llama2-7b', '--method', 'bone', '--r', '6.5']), ['--r', "'6.5'"]);
  throwsWith(() => parseParamsArgs(['--model', 'llama2-7b', '--method', 'bat', '--convention', 'diagonal']), ['--convention', "'diagonal'"]);
  throwsWith(() => parseParamsArgs(['--method', 'bone']), ['--model']);
});

test('the CLI prints a breakdown and the count as the last line; errors exit non-zero', () => {
  const ok = cli(['--model', 'llama2-7b', '--method', 'bone', '--r', '64']);
  assert.is(ok.code, 0, ok.err);
  const lines = ok.out.trimEnd().split('\n');
  assert.is(lines[lines.length - 1], '87031808');
  assert.ok(lines.length > 3 && lines.some((l) => l.includes('mlp.gate_proj') && l.includes('[11008, 4096]')), ok.out);
  const bad = cli(['--model', 'llama-3.2-3b', '--method', 'bat', '--r', '48', '--targets', 'k_proj']);
  assert.ok(bad.code !== 0, 'non-zero exit');
  assert.is(bad.out, '', 'no count printed');
  assert.ok(bad.err.includes('model.layers.0.self_attn.k_proj') && bad.err.includes('1024') && bad.err.includes('3072'), bad.err);
  const usage = cli(['--model', 'llama2-7b']);
  assert.is(usage.code, 2);
  assert.ok(usage.err.includes('--method is required') && usage.err.includes('usage:'), usage.err);
});

test.run();
