/**
 * PEFT-style target selection: which linear modules of a model get an adapter.
 *
 * A target spec is 'all-linear' (every linear except the output head, as PEFT's "all-linear"), a single 're:<regex>'
 * string, or a list whose entries are module-name suffixes (`q_proj`, `att.key`) or 're:<regex>' patterns. A suffix
 * matches a module whose name equals it or ends with `.<suffix>` (PEFT's rule); a regex must match the whole name
 * (PEFT's `re.fullmatch` for a string `target_modules`).
 */

export type TargetSpec = 'all-linear' | string | string[];

/** Output heads: never selected by 'all-linear' (PEFT excludes the output embedding layer). */
const HEAD_NAMES = new Set(['lm_head', 'head']);

/** True for an output-head module name (`lm_head`, RWKV's `head`). */
export function isHeadModule(name: string): boolean {
  return HEAD_NAMES.has(name.slice(name.lastIndexOf('.') + 1)) && !/\.\d+\./.test(`.${name}`);
}

function compilePattern(src: string, what: string): RegExp {
  try {
    return new RegExp(`^(?:${src})$`);
  } catch (e) {
    throw new Error(`${what}: invalid regular expression '${src}' (${(e as Error).message})`);
  }
}

/** Normalise a spec into a list of entries (suffixes or 're:' patterns), or 'all-linear'. */
function entries(targets: TargetSpec, what: string): 'all-linear' | string[] {
  if (targets === 'all-linear') return 'all-linear';
  const list = typeof targets === 'string' ? [targets] : targets;
  if (!Array.isArray(list) || list.length === 0) throw new Error(`${what}: empty target list (use 'all-linear', suffixes like q_proj, or 're:<regex>')`);
  for (const t of list) {
    if (typeof t !== 'string' || t.trim() === '') throw new Error(`${what}: invalid target ${JSON.stringify(t)} (expected a non-empty string)`);
    if (t === 'all-linear') throw new Error(`${what}: 'all-linear' cannot be combined with other targets`);
  }
  return list;
}

/** Does one entry (suffix or 're:' pattern) match a module name? */
function entryMatches(entry: string, name: string, re: RegExp | null): boolean {
  if (re) return re.test(name);
  return name === entry || name.endsWith(`.${entry}`);
}

/** Does `name` fall under the target spec? */
export function matchesTarget(name: string, targets: TargetSpec): boolean {
  const list = entries(targets, 'targets');
  if (list === 'all-linear') return !isHeadModule(name);
  return list.some((t) => entryMatches(t, name, t.startsWith('re:') ? compilePattern(t.slice(3), 'targets') : null));
}

/**
 * The module names selected by `targets`, in the order of `names`. Every entry of the spec must match at least one
 * module; one that matches nothing is an error naming it (a typo would otherwise silently train fewer modules).
 */
export function selectTargets(names: string[], targets: TargetSpec): string[] {
  const list = entries(targets, 'targets');
  if (list === 'all-linear') {
    const out = names.filter((n) => !isHeadModule(n));
    if (out.length === 0) throw new Error(`targets: 'all-linear' matches no module (the model has only: ${names.join(', ') || 'nothing'})`);
    return out;
  }
  const compiled = list.map((t) => ({ t, re: t.startsWith('re:') ? compilePattern(t.slice(3), `targets '${t}'`) : null }));
  for (const { t, re } of compiled) {
    if (!names.some((n) => entryMatches(t, n, re))) {
      throw new Error(`targets: '${t}' matches no linear module of the model (module suffixes: ${moduleSuffixes(names).join(', ')})`);
    }
  }
  return names.filter((n) => compiled.some(({ t, re }) => entryMatches(t, n, re)));
}

/** The part of a module name after its layer index (`model.layers.3.self_attn.q_proj` -> `self_attn.q_proj`). */
export function layerLocalName(name: string): string {
  const m = /(?:^|\.)\d+\.(.+)$/.exec(name);
  return m ? m[1] : name;
}

/** Distinct layer-local names, in first-seen order (for listings and error messages). */
export function moduleSuffixes(names: string[]): string[] {
  return [...new Set(names.map(layerLocalName))];
}

/**
 * The `target_modules` list PEFT would write for the selected modules: for each, the shortest dotted suffix that
 * matches no unselected module of `allNames` (so `q_proj` for LLaMA, but `att.key` for RWKV when `ffn.key` is not
 * selected). Without `allNames` the layer-local name is used, which is always unambiguous. Sorted, deduplicated.
 */
export function peftTargetModules(selected: string[], allNames?: string[]): string[] {
  const chosen = new Set(selected);
  const others = allNames ? allNames.filter((n) => !chosen.has(n)) : null;
  const out = new Set<string>();
  for (const name of selected) {
    const local = layerLocalName(name);
    if (!others) {
      out.add(local);
      continue;
    }
    const parts = local.split('.');
    let pick = local;
    for (let k = 1; k <= parts.length; k++) {
      const suffix = parts.slice(parts.length - k).join('.');
      if (!others.some((o) => entryMatches(suffix, o, null))) {
        pick = suffix;
        break;
      }
    }
    out.add(pick);
  }
  return [...out].sort();
}
