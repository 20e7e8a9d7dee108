/**
 * Prompt templates. `alpaca` is the exact format of the paper's training script (the PiSSA/MetaMath trainer the Bone
 * repo's finetune.py derives from): the prompt ends with `### Response:` and the target is the response, a newline,
 * then the end-of-sequence token. `qa` is a short template for the kit's tiny char-level models, whose context is a few
 * hundred characters (the Alpaca preamble alone is 139).
 */

export interface PromptTemplate {
  name: string;
  /** The prompt, with `{instruction}` where the question goes. */
  prompt: string;
  /** Text appended to the response before EOS (the paper's script appends "\n"). */
  targetSuffix: string;
}

export const ALPACA_TEMPLATE: PromptTemplate = {
  name: 'alpaca',
  prompt:
    'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
    '### Instruction:\n{instruction}\n\n### Response:',
  targetSuffix: '\n',
};

export const QA_TEMPLATE: PromptTemplate = {
  name: 'qa',
  prompt: 'Q: {instruction}\nA: ',
  targetSuffix: '\n',
};

export const TEMPLATES: Record<string, PromptTemplate> = { alpaca: ALPACA_TEMPLATE, qa: QA_TEMPLATE };

/** A template by name, or the object itself; errors name the unknown template. */
export function resolveTemplate(t: PromptTemplate | string | undefined): PromptTemplate {
  if (t === undefined) return ALPACA_TEMPLATE;
  if (typeof t !== 'string') {
    if (!t.prompt.includes('{instruction}')) throw new Error(`prompt template '${t.name}': prompt has no {instruction} placeholder`);
    return t;
  }
  const found = TEMPLATES[t];
  if (!found) throw new Error(`prompt template '${t}' is unknown (known: ${Object.keys(TEMPLATES).join(', ')})`);
  return found;
}

/** The prompt text for one question. */
export function formatPrompt(question: string, template?: PromptTemplate | string): string {
  return resolveTemplate(template).prompt.split('{instruction}').join(question);
}

/** The training target for one solution (response + suffix; EOS is added as a token id by the encoder). */
export function formatTarget(solution: string, template?: PromptTemplate | string): string {
  return solution + resolveTemplate(template).targetSuffix;
}
