/**
 * Downloadable datasets: canonical public URLs pinned to a commit where the host allows it, and the sha256 of the
 * exact file when it is known. A hash is recorded only when it was computed from a copy whose git blob id equals the
 * upstream blob at that commit; otherwise it is null and `datasets fetch` prints the computed hash as unverified.
 */

export interface RegistryEntry {
  name: string;
  /** File name written inside --out. */
  file: string;
  url: string;
  sha256: string | null;
  /** Size in bytes when known (the file the hash belongs to). */
  bytes: number | null;
  /** Which loader reads it (datasets/<loader>.ts), or null. */
  loader: string | null;
  license: string;
  description: string;
}

const GH = 'https://raw.githubusercontent.com';

export const REGISTRY: RegistryEntry[] = [
  {
    name: 'gsm8k-train', file: 'train.jsonl',
    url: `${GH}/openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c/grade_school_math/data/train.jsonl`,
    sha256: '17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465', bytes: 4166206,
    loader: 'gsm8k', license: 'MIT', description: 'GSM8K train, 7,473 problems (question / answer with #### N)',
  },
  {
    name: 'gsm8k-test', file: 'test.jsonl',
    url: `${GH}/openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c/grade_school_math/data/test.jsonl`,
    sha256: '3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14', bytes: 749738,
    loader: 'gsm8k', license: 'MIT', description: 'GSM8K test, 1,319 problems',
  },
  {
    name: 'math-test', file: 'test.jsonl',
    url: `${GH}/ZubinGou/math-evaluation-harness/db77bc6bb2a17c90ed2d63e88ebd8c40a82858c5/data/math/test.jsonl`,
    sha256: '3371949f33dd702d04b43fddd7d53a028de0aaca0e76abb1b875a050297b3aa4', bytes: 4101364,
    loader: 'math', license: 'MIT', description: 'MATH test, 5,000 problems (answer = last \\boxed{})',
  },
  {
    name: 'math500', file: 'math500_test.jsonl',
    url: `${GH}/ZubinGou/math-evaluation-harness/db77bc6bb2a17c90ed2d63e88ebd8c40a82858c5/data/math_oai/test.jsonl`,
    sha256: '35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132', bytes: 446564,
    loader: 'math', license: 'MIT', description: 'MATH-500 subset (PRM800K split), with an answer field',
  },
  {
    name: 'svamp', file: 'SVAMP.json',
    url: `${GH}/arkilpatel/SVAMP/689d7ccac74b9983a2ac7cc3b264f441b99e7c53/SVAMP.json`,
    sha256: '5be77703a6d891ae476d7c082787ad361392aa02453b132516cdd5f4e7934e3e', bytes: 339970,
    loader: 'svamp', license: 'MIT', description: 'SVAMP, 1,000 one-unknown arithmetic word problems',
  },
  {
    name: 'aqua-test', file: 'test.json',
    url: `${GH}/google-deepmind/AQuA/26b64ed1f22208c6742f47df547dfd65088ec30d/test.json`,
    sha256: 'de41581881ef95c5588c44ddc701c77fd480839241dd422a0d181262af24520c', bytes: 130192,
    loader: 'aqua', license: 'Apache-2.0', description: 'AQuA-RAT test, 254 multiple-choice problems (JSON Lines)',
  },
  {
    name: 'aqua-dev', file: 'dev.json',
    url: `${GH}/google-deepmind/AQuA/26b64ed1f22208c6742f47df547dfd65088ec30d/dev.json`,
    sha256: '4a52301d8a49ae0b286f8e697f9c5da1b109b247b825b47b4c6de34312dceec5', bytes: 132008,
    loader: 'aqua', license: 'Apache-2.0', description: 'AQuA-RAT dev, 254 problems',
  },
  {
    name: 'aqua-train', file: 'train.json',
    url: `${GH}/google-deepmind/AQuA/26b64ed1f22208c6742f47df547dfd65088ec30d/train.json`,
    sha256: null, bytes: null,
    loader: 'aqua', license: 'Apache-2.0', description: 'AQuA-RAT train, about 97k problems',
  },
  {
    name: 'llm-adapters-math', file: 'math_data.json',
    url: `${GH}/AGI-Edgerunners/LLM-Adapters/816657208af4db747803f87ba40a4c71383fed7a/ft-training_set/math_data.json`,
    sha256: '1d06633b4db748b7cfa38f2891f8d7b17b3636717b3188dd382045b94cf999a7', bytes: 1673207,
    loader: 'llm-adapters', license: 'ODC-By', description: 'LLM-Adapters math SFT set, 3,260 problems with ChatGPT rationales',
  },
  {
    name: 'llm-adapters-math10k', file: 'math_10k.json',
    url: `${GH}/AGI-Edgerunners/LLM-Adapters/816657208af4db747803f87ba40a4c71383fed7a/ft-training_set/math_10k.json`,
    sha256: null, bytes: null,
    loader: 'llm-adapters', license: 'ODC-By', description: 'LLM-Adapters math_10k SFT set',
  },
  {
    name: 'metamathqa', file: 'MetaMathQA-395K.json',
    url: 'https://huggingface.co/datasets/meta-math/MetaMathQA/resolve/aa4f34d3d2d3231299b5b03d9b3e5a20da45aa18/MetaMathQA-395K.json',
    sha256: null, bytes: null,
    loader: 'metamath', license: 'MIT', description: "MetaMathQA, 395k query/response pairs (the paper's SFT set; about 400 MB)",
  },
  {
    name: 'humaneval', file: 'HumanEval.jsonl.gz',
    url: `${GH}/openai/human-eval/6d43fb980f9fee3c892a914eda09951f772ad10d/data/HumanEval.jsonl.gz`,
    sha256: 'b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef', bytes: 44877,
    loader: 'code', license: 'MIT', description: 'HumanEval, 164 Python problems (gzip JSONL)',
  },
  {
    name: 'mbpp-sanitized', file: 'sanitized-mbpp.json',
    url: `${GH}/google-research/google-research/30adf0ec5f35f9609c2f1d896005e184195d9146/mbpp/sanitized-mbpp.json`,
    sha256: null, bytes: null,
    loader: 'code', license: 'CC-BY-4.0', description: 'MBPP sanitized, 427 Python problems',
  },
  {
    name: 'mt-bench', file: 'question.jsonl',
    url: `${GH}/lm-sys/FastChat/0e6d3e4beaab66f4d3f93db72541a4abab8af28d/fastchat/llm_judge/data/mt_bench/question.jsonl`,
    sha256: '119565adbab82227089cefdb44c8d7e2cf04dc0a0ec233634c82e7d4e2a944f7', bytes: 48929,
    loader: 'instructions', license: 'Apache-2.0', description: 'MT-Bench, 80 two-turn questions (prompts only; no judge offline)',
  },
  {
    name: 'self-instruct-seed', file: 'seed_tasks.jsonl',
    url: `${GH}/yizhongw/self-instruct/0b26ccaa415992100fa32df62d41b994cf928e23/data/seed_tasks.jsonl`,
    sha256: null, bytes: null,
    loader: 'instructions', license: 'Apache-2.0', description: 'Self-Instruct 175 seed tasks',
  },
  {
    name: 'self-instruct-user', file: 'user_oriented_instructions.jsonl',
    url: `${GH}/yizhongw/self-instruct/0b26ccaa415992100fa32df62d41b994cf928e23/human_eval/user_oriented_instructions.jsonl`,
    sha256: null, bytes: null,
    loader: 'instructions', license: 'Apache-2.0', description: 'Self-Instruct 252 user-oriented instructions',
  },
  {
    name: 'tinyshakespeare', file: 'input.txt',
    url: `${GH}/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt`,
    sha256: '86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed', bytes: 1115394,
    loader: 'corpus', license: 'public domain text', description: 'Tiny Shakespeare, 1.1 MB of English for a toy base LM',
  },
];

/** The entry for a name; errors list the known names. */
export function registryEntry(name: string): RegistryEntry {
  const e = REGISTRY.find((r) => r.name === name);
  if (!e) throw new Error(`dataset '${name}' is not in the registry (known: ${REGISTRY.map((r) => r.name).join(', ')})`);
  return e;
}
