/** The runner must catch wrong maths: mutated copies of real vectors fail, naming the field. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runErrorsFile } from '../../lib/conformance/errors';
import { runVector } from '../../lib/conformance/run';
import type { ConformanceVector, ErrorsFile } from '../../lib/conformance/vector';
import { setupBackend, SHARED } from '../util';

const DIR = path.join(SHARED, 'conformance', 'vectors');
const load = <T>(f: string): T => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as T;

test.before(async () => {
  await setupBackend();
});

interface Mutation {
  name: string;
  file: string;
  mutate: (v: ConformanceVector) => void;
  /** A fragment the failure detail must contain. */
  expect: RegExp;
}

const MUTATIONS: Mutation[] = [
  {
    name: 'DoRA grads with the norm NOT detached',
    file: 'dora_16x24_r4_a8.json',
    mutate: (v) => (v.expected.grads = v.expected.grads_if_norm_NOT_detached as ConformanceVector['expected']['grads']),
    expect: /grads\.lora_A: relative error/,
  },
  { name: 'rsLoRA flag flipped', file: 'lora_16x24_r4_a8.json', mutate: (v) => (v.config.use_rslora = true), expect: /scaling: relative error/ },
  { name: 'Bone block perturbed', file: 'bone_16x24_r5_nondiv.json', mutate: (v) => ((v.params.bone_block as number[][])[0][0] += 0.01), expect: /delta_weight/ },
  { name: 'PiSSA alpha changed', file: 'pissa_16x24_r4_a8.json', mutate: (v) => (v.config.lora_alpha = 4), expect: /init: B0 A0/ },
  { name: 'LoRA-GA direction changed', file: 'loraga_16x24_r4_a8_ArB2r_stable.json', mutate: (v) => ((v.config.lora_ga_config as Record<string, unknown>).direction = 'A2rBr'), expect: /init: S_B/ },
  { name: 'OLoRA conversion alpha', file: 'olora_16x24_r4_a8.json', mutate: (v) => (v.conversion_to_lora!.lora_alpha = 8), expect: /conversion_to_lora\.lora_alpha/ },
  { name: 'unknown MiSS option', file: 'miss_bat_16x24_r4.json', mutate: (v) => (v.config.init_weights = 'foo'), expect: /unsupported: .*'init_weights'.*"foo"/ },
  { name: 'unknown method', file: 'lora_16x24_r4_a8.json', mutate: (v) => (v.method = 'vera'), expect: /unknown method 'vera'/ },
  { name: 'bat merged weight', file: 'miss_bat_16x24_r4.json', mutate: (v) => ((v.expected.merged_weight as number[][])[3][5] += 0.01), expect: /merged_weight/ },
];

for (const m of MUTATIONS) {
  test(`a vector with ${m.name} fails`, () => {
    const v = load<ConformanceVector>(m.file);
    assert.is(runVector(v, m.file).status, 'pass', 'the unmutated vector passes');
    m.mutate(v);
    const r = runVector(v, m.file);
    assert.is(r.status, 'fail');
    assert.match(r.detail, m.expect);
  });
}

test('init-only PEFT options: accepted when the vector params overwrite the init, refused when our init is checked', () => {
  const cases: [string, (v: ConformanceVector) => void, RegExp | null][] = [
    ['dora_16x24_r4_a8.json', (v) => (v.config.init_lora_weights = false), null],
    ['dora_init_16x24_r4_a8.json', (v) => (v.config.init_lora_weights = 'gaussian'), /unsupported: .*'init_lora_weights'.*"gaussian"/],
    ['miss_balance_16x24_r5_nondiv.json', (v) => (v.config.init_weights = false), null],
    ['miss_balance_init_16x24_r4.json', (v) => (v.config.init_weights = false), /unsupported: .*'init_weights'.*false/],
    ['loraga_16x24_r4_a8_ArB2r_stable.json', (v) => delete v.config.lora_ga_config, /unsupported: .*'lora_ga_config' must be provided/],
  ];
  for (const [file, mutate, fails] of cases) {
    const v = load<ConformanceVector>(file);
    mutate(v);
    const r = runVector(v, file);
    if (fails === null) assert.is(r.status, 'pass', `${file}: ${r.detail}`);
    else {
      assert.is(r.status, 'fail', file);
      assert.match(r.detail, fails);
    }
  }
});

test('errors.json: an accepted invalid case fails the entry', () => {
  const v = load<ErrorsFile>('errors.json');
  assert.is(runErrorsFile(v, 'errors.json').status, 'pass');
  v.cases.push({ method: 'miss', config: { r: 4 }, shape: [16, 24], exception: 'ValueError', message: 'made up' });
  const r = runErrorsFile(v, 'errors.json');
  assert.is(r.status, 'fail');
  assert.match(r.detail, /accepted a configuration PEFT rejects/);
});

test.run();
