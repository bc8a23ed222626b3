// go.mod + go.sum (https://go.dev/ref/mod#go-mod-file, #go-sum-files). Since Go 1.17 go.mod lists
// every module the build needs; `// indirect` marks those not imported directly. go.mod has no
// module-to-module edges, so direct requirements hang off the root and indirect ones stand alone.
import { InputError } from '../core/index.ts';
import { InventoryBuilder } from './inventory-builder.ts';
import type { Inventory } from './model.ts';
import { makePurl } from './purl.ts';

interface Requirement {
  path: string;
  version: string;
  indirect: boolean;
}

function splitModule(path: string): { namespace?: string; name: string } {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? { name: path } : { namespace: path.slice(0, slash), name: path.slice(slash + 1) };
}

export function parseGoMod(text: string, file: string): { module: string; requires: Requirement[]; replaces: Map<string, Requirement> } {
  let module = '';
  const requires: Requirement[] = [];
  const replaces = new Map<string, Requirement>();
  let block: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const comment = raw.indexOf('//');
    const indirect = comment >= 0 && /\/\/\s*indirect\b/.test(raw.slice(comment));
    const line = (comment >= 0 ? raw.slice(0, comment) : raw).trim();
    if (line === '') return;
    if (block !== undefined && line === ')') {
      block = undefined;
      return;
    }
    let verb = block;
    let rest = line;
    if (block === undefined) {
      const m = /^(\w+)\s*(.*)$/.exec(line);
      if (m === null) throw new InputError('LOCKFILE_INVALID', `${file}:${i + 1}: cannot parse '${line}'`);
      verb = m[1];
      rest = (m[2] ?? '').trim();
      if (rest === '(') {
        block = verb;
        return;
      }
    }
    const fields = rest.split(/\s+/).map((f) => f.replace(/^"(.*)"$/, '$1'));
    if (verb === 'module') module = fields[0] ?? '';
    else if (verb === 'require') {
      if (fields.length < 2) throw new InputError('LOCKFILE_INVALID', `${file}:${i + 1}: require needs a path and a version`);
      requires.push({ path: fields[0]!, version: fields[1]!, indirect });
    } else if (verb === 'replace') {
      const arrow = fields.indexOf('=>');
      const target = fields.slice(arrow + 1);
      if (arrow > 0 && target.length === 2) replaces.set(fields[0]!, { path: target[0]!, version: target[1]!, indirect });
    }
  });
  if (module === '') throw new InputError('LOCKFILE_INVALID', `${file}: no module directive`);
  return { module, requires, replaces };
}

/** go.sum "h1:" hashes: SHA-256 of the module's dirhash summary, as base64. */
export function parseGoSum(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const [path, version, hash] = line.trim().split(/\s+/);
    if (path === undefined || version === undefined || hash?.startsWith('h1:') !== true || version.endsWith('/go.mod')) continue;
    const hex = Buffer.from(hash.slice(3), 'base64').toString('hex');
    if (hex.length === 64) out.set(`${path} ${version}`, hex);
  }
  return out;
}

export function readGoMod(goMod: string, goSum: string | undefined, file: string): Inventory {
  const { module, requires, replaces } = parseGoMod(goMod, file);
  const sums = goSum === undefined ? new Map<string, string>() : parseGoSum(goSum);
  const builder = new InventoryBuilder();
  for (const r of requires) {
    const replaced = replaces.get(r.path);
    // A replacement by a local directory (no version) keeps the required module's identity.
    const effective = replaced !== undefined && !replaced.path.startsWith('.') && !replaced.path.startsWith('/') ? replaced : r;
    const { namespace, name } = splitModule(effective.path);
    const sum = sums.get(`${effective.path} ${effective.version}`);
    const ref = builder.add({
      type: 'golang',
      ...(namespace !== undefined ? { namespace } : {}),
      name,
      version: effective.version,
      purl: makePurl('golang', namespace, name, effective.version),
      hashes: sum !== undefined ? { 'SHA-256': sum } : {},
      scope: 'required',
      ...(sum === undefined && goSum !== undefined ? { missingIntegrity: true } : {}),
    });
    if (!r.indirect) builder.addEdge(undefined, ref);
  }
  const root = splitModule(module);
  return builder.build({ name: module, purl: makePurl('golang', root.namespace, root.name, undefined) }, [file, ...(goSum !== undefined ? ['go.sum'] : [])]);
}
