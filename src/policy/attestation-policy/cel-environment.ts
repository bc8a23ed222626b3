// The CEL environment policy rules run in: @bufbuild/cel plus custody's helpers, bounded by
// CelLimits. @bufbuild/cel has no cost tracking, so custody (1) caps the expression and the input,
// (2) rewrites every comprehension's loop condition to `@custody_budget() && cond`, which charges one
// unit per iteration and stops all loops once the budget is spent, and (3) overrides concatenation
// to charge by size, so no chain of maps can grow values exponentially. An evaluation that ran out
// of budget fails, whatever value it produced (an error absorbed by `||` cannot hide it).
import { createRequire } from 'node:module';
import type * as CelModule from '@bufbuild/cel';
import type { CelInput, CelList, CelValue } from '@bufbuild/cel';
import { InputError, digestSetsMatch, type DigestSet } from '../../core/index.ts';
import { DEFAULT_CEL_LIMITS, type CelLimits } from './cel-limits.ts';

// @bufbuild/cel loads on first use, not with the policy module: `custody verify --layout` and the
// other commands that never evaluate a CEL rule start ~90 ms sooner. (Synchronous require of the
// package's CommonJS build; this file is its only user, so there is one copy.)
let celModule: typeof CelModule | undefined;
function cel(): typeof CelModule {
  return (celModule ??= createRequire(import.meta.url)('@bufbuild/cel') as typeof CelModule);
}

type ParsedExpr = ReturnType<typeof CelModule.parse>;
type Expr = ParsedExpr['expr'];

export type CelBindings = Record<string, CelInput>;

export interface CompiledRule {
  readonly source: string;
  /** Evaluates with the runtime's meter reset; use CelRuntime.evaluate. */
  readonly program: (bindings: CelBindings) => unknown;
}

export type RuleResult =
  | { readonly kind: 'true'; readonly cost: number }
  | { readonly kind: 'false'; readonly cost: number }
  | { readonly kind: 'not-bool'; readonly cost: number; readonly valueType: string }
  | { readonly kind: 'error'; readonly cost: number; readonly message: string }
  | { readonly kind: 'cost-exceeded'; readonly cost: number };

export interface CelRuntime {
  readonly limits: CelLimits;
  /** Compiles a rule; unknown identifiers, oversize or unparsable rules throw InputError POLICY_INVALID. */
  compile(source: string, variables: readonly string[], where: string): CompiledRule;
  evaluate(rule: CompiledRule, bindings: CelBindings): RuleResult;
  /** A CEL timestamp value for a Date. */
  timestamp(date: Date): CelInput;
}

export type ConvertedInput = { readonly ok: true; readonly value: CelInput } | { readonly ok: false; readonly reason: string };

/**
 * Converts parsed JSON to CEL input: objects become maps, integral numbers `int`, other numbers
 * `double`. Refuses input deeper, larger or with more string content than the limits allow.
 */
export function jsonToCel(json: unknown, limits: CelLimits = DEFAULT_CEL_LIMITS): ConvertedInput {
  let nodes = 0;
  let chars = 0;
  const tooLarge = (): string | undefined => {
    if (nodes > limits.maxInputNodes) return `more than ${limits.maxInputNodes} JSON values`;
    if (chars > limits.maxInputStringChars) return `more than ${limits.maxInputStringChars} characters of strings`;
    return undefined;
  };
  const convert = (v: unknown, depth: number): CelInput => {
    nodes++;
    if (depth > limits.maxInputDepth) throw new RangeError(`nested deeper than ${limits.maxInputDepth}`);
    const over = tooLarge();
    if (over !== undefined) throw new RangeError(over);
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      chars += v.length;
      return v;
    }
    if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
    // Wrapped once here: @bufbuild/cel would otherwise wrap plain Maps and arrays on every access.
    if (Array.isArray(v)) return cel().celList(v.map((e: unknown) => convert(e, depth + 1)));
    if (typeof v === 'object') {
      const m = new Map<string, CelInput>();
      for (const [k, e] of Object.entries(v)) {
        if (e === undefined) continue; // an absent optional field of a parsed model
        chars += k.length;
        m.set(k, convert(e, depth + 1));
      }
      return cel().celMap(m);
    }
    throw new RangeError(`unsupported JSON value of type ${typeof v}`);
  };
  try {
    const value = convert(json, 0);
    const over = tooLarge();
    return over === undefined ? { ok: true, value } : { ok: false, reason: over };
  } catch (e) {
    if (e instanceof RangeError) return { ok: false, reason: e.message };
    throw e;
  }
}

// CEL's own type names may appear as identifiers (`type(x) == string`).
const TYPE_IDENTS = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn']);

interface Meter {
  cost: number;
  max: number;
  exhausted: boolean;
}

function charge(meter: Meter, units: number): void {
  meter.cost += units;
  if (meter.cost > meter.max) {
    meter.exhausted = true;
    throw new Error(`CEL cost limit of ${meter.max} exceeded`);
  }
}

function policyInvalid(where: string, message: string, cause?: unknown): never {
  throw new InputError('POLICY_INVALID', `${where}: ${message}`, cause === undefined ? undefined : { cause });
}

let syntheticId = 1n << 48n;

function callExpr(fn: string, args: Expr[]): Expr {
  syntheticId++;
  return {
    $typeName: 'cel.expr.Expr',
    id: syntheticId,
    exprKind: { case: 'callExpr', value: { $typeName: 'cel.expr.Expr.Call', function: fn, args } },
  };
}

/** Counts nodes, checks identifiers against the declared variables and meters comprehensions. */
function instrument(root: Expr, variables: ReadonlySet<string>, limits: CelLimits, where: string): void {
  let nodes = 0;
  const visit = (e: Expr | undefined, scope: ReadonlySet<string>): void => {
    if (e === undefined) return;
    nodes++;
    if (nodes > limits.maxExpressionNodes) policyInvalid(where, `rule has more than ${limits.maxExpressionNodes} nodes`);
    const k = e.exprKind;
    switch (k.case) {
      case 'identExpr':
        if (!scope.has(k.value.name) && !TYPE_IDENTS.has(k.value.name)) policyInvalid(where, `unknown variable '${k.value.name}'`);
        return;
      case 'selectExpr':
        visit(k.value.operand, scope);
        return;
      case 'callExpr':
        visit(k.value.target, scope);
        for (const a of k.value.args) visit(a, scope);
        return;
      case 'listExpr':
        for (const a of k.value.elements) visit(a, scope);
        return;
      case 'structExpr':
        for (const entry of k.value.entries) {
          if (entry.keyKind.case === 'mapKey') visit(entry.keyKind.value, scope);
          visit(entry.value, scope);
        }
        return;
      case 'comprehensionExpr': {
        const c = k.value;
        visit(c.iterRange, scope);
        visit(c.accuInit, scope);
        const inner = new Set(scope).add(c.iterVar).add(c.accuVar);
        if (c.iterVar2 !== '') inner.add(c.iterVar2);
        visit(c.loopCondition, inner);
        visit(c.loopStep, inner);
        visit(c.result, new Set(scope).add(c.accuVar));
        if (c.loopCondition === undefined) policyInvalid(where, 'malformed comprehension');
        c.loopCondition = callExpr('_&&_', [callExpr('@custody_budget', []), c.loopCondition]);
        return;
      }
      default:
        return;
    }
  };
  visit(root, variables);
}

function digestSetOf(v: CelValue | undefined): DigestSet | undefined {
  if (!cel().isCelMap(v)) return undefined;
  const out: DigestSet = {};
  for (const [k, d] of v) if (typeof k === 'string' && typeof d === 'string') out[k] = d;
  return Object.keys(out).length > 0 ? out : undefined;
}

function listOf(v: CelValue, what: string): CelList {
  if (!cel().isCelList(v)) throw new Error(`${what} expects a list`);
  return v;
}

function mapField(v: CelValue, field: string): CelValue | undefined {
  return cel().isCelMap(v) ? v.get(field) : undefined;
}

function helpers(meter: Meter) {
  const { BOOL, INT, DYN, STRING, BYTES } = cel().CelScalar;
  const listDyn = cel().listType(DYN);
  return [
    // digestEquals(a, b): the digest maps share an algorithm and agree on every shared one.
    cel().celFunc('digestEquals', [DYN, DYN], BOOL, (a, b) => {
      charge(meter, 1);
      const da = digestSetOf(a);
      const db = digestSetOf(b);
      if (da === undefined || db === undefined) throw new Error('digestEquals expects two digest maps');
      return digestSetsMatch(da, db);
    }),
    // hasSubject(subjects, digest): some resource descriptor in the list has a matching digest.
    cel().celFunc('hasSubject', [DYN, DYN], BOOL, (subjects, digest) => {
      const list = listOf(subjects, 'hasSubject');
      charge(meter, 1 + list.size);
      const d = digestSetOf(digest);
      if (d === undefined) throw new Error('hasSubject expects a digest map');
      for (const s of list) {
        const sd = digestSetOf(mapField(s, 'digest'));
        if (sd !== undefined && digestSetsMatch(sd, d)) return true;
      }
      return false;
    }),
    // distinctSigners(attestations): distinct key ids over the attestations' `signers` lists.
    cel().celFunc('distinctSigners', [DYN], INT, (attestations) => {
      const list = listOf(attestations, 'distinctSigners');
      charge(meter, 1 + list.size);
      const keys = new Set<string>();
      for (const a of list) {
        const signers = mapField(a, 'signers');
        if (!cel().isCelList(signers)) continue;
        charge(meter, signers.size);
        for (const k of signers) if (typeof k === 'string') keys.add(k);
      }
      return BigInt(keys.size);
    }),
    // countDistinct(list): distinct scalar values (strings, ints, bools) in a list.
    cel().celFunc('countDistinct', [DYN], INT, (values) => {
      const list = listOf(values, 'countDistinct');
      charge(meter, 1 + list.size);
      const seen = new Set<string>();
      for (const v of list) {
        if (typeof v === 'string') seen.add(`s:${v}`);
        else if (typeof v === 'bigint') seen.add(`i:${v}`);
        else if (typeof v === 'boolean') seen.add(`b:${String(v)}`);
        else if (typeof v === 'number') seen.add(`i:${Number.isInteger(v) ? String(v) : `d:${v}`}`);
        else throw new Error('countDistinct expects a list of scalars');
      }
      return BigInt(seen.size);
    }),
    // Budget check planted in every comprehension's loop condition (see module comment).
    cel().celFunc('@custody_budget', [], BOOL, () => {
      if (meter.exhausted) return false;
      meter.cost++;
      if (meter.cost > meter.max) meter.exhausted = true;
      return !meter.exhausted;
    }),
    // Size-charged concatenation (overrides the standard overloads).
    cel().celFunc('_+_', [STRING, STRING], STRING, (a, b) => {
      charge(meter, 1 + Math.min(a.length, b.length));
      return a + b;
    }),
    cel().celFunc('_+_', [BYTES, BYTES], BYTES, (a, b) => {
      charge(meter, 1 + Math.min(a.length, b.length));
      const out = new Uint8Array(a.length + b.length);
      out.set(a, 0);
      out.set(b, a.length);
      return out;
    }),
    cel().celFunc('_+_', [listDyn, listDyn], listDyn, (a, b) => concatLists(meter, a, b)),
  ];
}

// `map` and `filter` append one element per iteration (`@result + [x]`). The standard overload
// builds a chain of lazy lists that costs O(n) per element read, so custody's overload appends in
// place when the left operand is the newest view of an append buffer (nobody can observe the
// slots past a view's length), and otherwise copies, charging the copy. This relies on
// @bufbuild/cel recognising lists by the registered symbol `Symbol.for("@bufbuild/cel/list")`
// (list.js, 0.6.1); cel-environment.test.ts fails if that changes.
const CEL_LIST = Symbol.for('@bufbuild/cel/list');

class AppendList {
  readonly [CEL_LIST] = {};
  readonly backing: CelValue[];
  readonly length: number;
  constructor(backing: CelValue[], length: number) {
    this.backing = backing;
    this.length = length;
  }
  get size(): number {
    return this.length;
  }
  get(index: number): CelValue | undefined {
    return Number.isInteger(index) && index >= 0 && index < this.length ? this.backing[index] : undefined;
  }
  *values(): IterableIterator<CelValue> {
    for (let i = 0; i < this.length; i++) yield this.backing[i] as CelValue;
  }
  [Symbol.iterator](): IterableIterator<CelValue> {
    return this.values();
  }
}

function concatLists(meter: Meter, a: CelList, b: CelList): CelList {
  const n = b.size;
  let out: AppendList;
  if (a instanceof AppendList && a.length === a.backing.length) {
    charge(meter, 1 + n);
    out = new AppendList(a.backing, a.length + n);
  } else {
    charge(meter, 1 + a.size + n);
    out = new AppendList([...a], a.size + n);
  }
  // Index reads: b may be a view of the same buffer (`a + a`), which grows while we append.
  for (let i = 0; i < n; i++) out.backing.push(b.get(i) as CelValue);
  return out as unknown as CelList;
}

function valueTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (cel().isCelList(v)) return 'list';
  if (cel().isCelMap(v)) return 'map';
  return typeof v;
}

export function createCelRuntime(limits: CelLimits = DEFAULT_CEL_LIMITS): CelRuntime {
  const meter: Meter = { cost: 0, max: limits.maxCost, exhausted: false };
  const env = cel().celEnv({ funcs: helpers(meter) });
  const toTimestamp = cel().plan(env, cel().parse('timestamp(s)'));

  const compile = (source: string, variables: readonly string[], where: string): CompiledRule => {
    if (source.length > limits.maxExpressionLength) policyInvalid(where, `rule is longer than ${limits.maxExpressionLength} characters`);
    let parsed: ParsedExpr;
    try {
      parsed = cel().parse(source);
    } catch (e) {
      policyInvalid(where, e instanceof RangeError ? 'rule nests too deeply' : `CEL syntax error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, e);
    }
    instrument(parsed.expr, new Set(variables), limits, where);
    let program: (bindings: CelBindings) => unknown;
    try {
      const planned = cel().plan(env, parsed);
      program = (bindings) => planned(bindings);
    } catch (e) {
      policyInvalid(where, `CEL rule cannot be planned: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    return { source, program };
  };

  const evaluate = (rule: CompiledRule, bindings: CelBindings): RuleResult => {
    meter.cost = 0;
    meter.exhausted = false;
    let value: unknown;
    try {
      value = rule.program(bindings);
    } catch (e) {
      // Stack exhaustion or an internal failure: a failed rule, never a crash of the verifier.
      value = new Error(e instanceof Error ? e.message : String(e));
    }
    const cost = meter.cost;
    if (meter.exhausted) return { kind: 'cost-exceeded', cost };
    if (cel().isCelError(value) || value instanceof Error) return { kind: 'error', cost, message: value.message };
    if (value === true) return { kind: 'true', cost };
    if (value === false) return { kind: 'false', cost };
    return { kind: 'not-bool', cost, valueType: valueTypeName(value) };
  };

  const timestamp = (date: Date): CelInput => {
    const t = toTimestamp({ s: date.toISOString() });
    if (cel().isCelError(t)) throw new InputError('INPUT_INVALID', `cannot make a CEL timestamp of ${date.toISOString()}`);
    return t;
  };

  return { limits, compile, evaluate, timestamp };
}
