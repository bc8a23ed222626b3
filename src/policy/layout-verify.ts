// in-toto v0.9 final-product verification (spec §5; verifylib.in_toto_verify of the reference
// 1.3.1), pure: the layout, keys and links come in loaded; the only effects are behind two
// adapters the caller supplies (run an inspection, load a sublayout's links). The verdict is the
// reference's; unlike the reference, verification goes on after a failure where that is safe and
// reports every failure, with `referenceStop` naming the one in-toto-verify stops on. Commands are
// never run once anything has failed.
import { InputError, publicKeyFromSecuresystemslib, type PublicKey } from '../core/index.ts';
import {
  checkSignature,
  linkFileName,
  makeLink,
  parseExpires,
  sublayoutLinkDirName,
  type Inspection,
  type JsonObject,
  type Layout,
  type Link,
  type SignedLayout,
  type SignedMetadata,
  type Step,
} from '../formats/index.ts';
import { evaluateArtifactRules, hashDictsEqual, type ArtifactPathMap, type ArtifactSets, type RuleEvaluation, type RuleFailure } from './artifact-rules.ts';
import { SubstitutionError, isParameterName, substituteLayoutParameters } from './layout-parameters.ts';
import type {
  InspectionReport,
  LayoutFailure,
  LayoutFailureCode,
  LayoutSignatureCheck,
  LayoutVerificationReport,
  LayoutWarning,
  LinkCheck,
  LinkStatus,
  StepReport,
} from './layout-report.ts';

/** Step name → functionary key id → the metadata found for it (a link, or a sublayout). */
export type StepLinks = Readonly<Record<string, Readonly<Record<string, SignedMetadata>>>>;

/** Where a sublayout sits: its step and functionary, and its link directory name `<step>.<keyid8>`. */
export interface SublayoutRef {
  readonly stepName: string;
  readonly keyid: string;
  readonly dirName: string;
}

export interface InspectionContext {
  /** Empty for the top-level layout; the chain of sublayouts otherwise. */
  readonly sublayoutPath: readonly SublayoutRef[];
}

/**
 * Runs inspections for the verifier. in-toto-verify runs `inspection.run` in the current directory
 * with '.' recorded as materials and products and returns that (unsigned) link, whose
 * `byproducts['return-value']` must be 0.
 */
export interface InspectionRunner {
  run(inspection: Inspection, context: InspectionContext): Promise<Link>;
}

/**
 * Loads the links of a sublayout. in-toto keeps them in the directory `path[last].dirName` inside
 * the superlayout's link directory (nested for each level); `linkFileName(step, keyid)` names the
 * files for each authorized key id of `layout`.
 */
export type SublayoutLinkLoader = (request: { readonly path: readonly SublayoutRef[]; readonly layout: Layout }) => Promise<StepLinks>;

export interface VerifyLayoutInput {
  readonly layout: SignedLayout;
  /** The project owner's keys. */
  readonly layoutKeys: readonly PublicKey[];
  /**
   * How many distinct layout keys must have signed. Default: all of them, as in-toto-verify
   * demands a valid signature for every key it is given.
   */
  readonly layoutThreshold?: number;
  readonly links: StepLinks;
  /** Substitution parameters; undefined = no substitution at all (the reference's None). */
  readonly parameters?: Readonly<Record<string, string>>;
  /** "Now" for the expiry check. */
  readonly referenceTime: Date;
  /** Needed when the layout (or a sublayout) has inspections. */
  readonly inspectionRunner?: InspectionRunner;
  /** Needed when a step's metadata is a sublayout. */
  readonly loadSublayoutLinks?: SublayoutLinkLoader;
}

/** A key as the layout names it: `keyid` is what signatures are looked up by. */
interface KeyRef {
  readonly keyid: string;
  readonly key: PublicKey;
}

interface VerifiedLink {
  readonly keyid: string;
  /** The key id of the key that verified it (the reference's used_main_keyids). */
  readonly verifiedBy: string;
  readonly metadata: SignedMetadata;
  link: Link | undefined;
}

interface StepState {
  readonly step: Step;
  readonly checks: Map<string, { status: LinkStatus; sublayout: boolean }>;
  readonly present: { keyid: string; metadata: SignedMetadata }[];
  verified: VerifiedLink[];
  distinctVerifiers: number;
  materialRules?: RuleEvaluation;
  productRules?: RuleEvaluation;
}

interface Context {
  readonly input: VerifyLayoutInput;
  readonly sublayoutPath: readonly SublayoutRef[];
  readonly mayRunCommands: boolean;
  readonly failures: LayoutFailure[];
  readonly warnings: LayoutWarning[];
}

type FailureFields = Omit<LayoutFailure, 'code' | 'stage' | 'message'>;

function addFailure(ctx: Context, code: LayoutFailureCode, stage: LayoutFailure['stage'], message: string, fields: FailureFields = {}): void {
  ctx.failures.push({ code, stage, message, ...fields });
}

function failedItems(ctx: Context): Set<string> {
  return new Set(ctx.failures.map((f) => f.item).filter((n): n is string => n !== undefined));
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/** verifylib.verify_layout_signatures, with a threshold over distinct key ids. */
function checkLayoutSignatures(layout: SignedLayout, keys: readonly KeyRef[]): LayoutSignatureCheck[] {
  const seen = new Set<string>();
  const checks: LayoutSignatureCheck[] = [];
  for (const { keyid, key } of keys) {
    if (seen.has(keyid)) continue;
    seen.add(keyid);
    checks.push({ keyid, status: checkSignature(layout, keyid, key) });
  }
  return checks;
}

function applyParameters(ctx: Context, layout: Layout): Layout | undefined {
  const parameters = ctx.input.parameters;
  if (parameters === undefined || ctx.sublayoutPath.length > 0) return layout;
  try {
    return substituteLayoutParameters(layout, parameters);
  } catch (e) {
    if (e instanceof SubstitutionError) {
      const code = e.kind === 'missing' ? 'PARAMETER_MISSING' : e.kind === 'invalid' ? 'PARAMETER_INVALID' : 'PARAMETER_UNSUPPORTED';
      addFailure(ctx, code, 'parameters', e.message, { item: e.item });
      return undefined;
    }
    if (e instanceof InputError) {
      addFailure(ctx, 'PARAMETER_INVALID', 'parameters', e.message);
      return undefined;
    }
    throw e;
  }
}

/** load_links_for_layout: links of authorized key ids only, with its preliminary threshold check. */
function collectLinks(ctx: Context, layout: Layout, links: StepLinks): StepState[] {
  return layout.steps.map((step) => {
    const forStep = Object.hasOwn(links, step.name) ? links[step.name] : undefined;
    const checks = new Map<string, { status: LinkStatus; sublayout: boolean }>();
    const present: StepState['present'] = [];
    for (const keyid of unique(step.pubkeys)) {
      const metadata = forStep !== undefined && Object.hasOwn(forStep, keyid) ? forStep[keyid] : undefined;
      checks.set(keyid, { status: 'missing', sublayout: metadata?.type === 'layout' });
      if (metadata !== undefined) present.push({ keyid, metadata });
    }
    if (present.length < step.threshold) {
      addFailure(ctx, 'LINKS_MISSING', 'links', `step '${step.name}' requires ${step.threshold} link(s), found ${present.length}`, {
        item: step.name,
      });
    }
    return { step, checks, present, verified: [], distinctVerifiers: 0 };
  });
}

/** The functionary key the layout lists under `keyid`, as the reference uses it. */
function functionaryKey(layout: Layout, keyid: string, cache: Map<string, KeyRef | string>): KeyRef | string | undefined {
  if (!Object.hasOwn(layout.keys, keyid)) return undefined;
  const cached = cache.get(keyid);
  if (cached !== undefined) return cached;
  const raw = layout.keys[keyid] as JsonObject;
  let result: KeyRef | string;
  // Metablock.verify_signature looks signatures up by the key object's own "keyid" member.
  const declared = raw['keyid'];
  if (typeof declared !== 'string') {
    result = `layout key ${keyid} has no 'keyid' member`;
  } else {
    try {
      result = { keyid: declared, key: publicKeyFromSecuresystemslib(raw) };
    } catch (e) {
      result = `layout key ${keyid} cannot be used: ${(e as Error).message}`;
    }
  }
  cache.set(keyid, result);
  return result;
}

/** verify_link_signature_thresholds for one step. */
function verifyStepSignatures(ctx: Context, layout: Layout, state: StepState, cache: Map<string, KeyRef | string>): void {
  const { step } = state;
  const verifiers: string[] = [];
  for (const { keyid, metadata } of state.present) {
    const check = state.checks.get(keyid) as { status: LinkStatus; sublayout: boolean };
    const ref = functionaryKey(layout, keyid, cache);
    if (ref === undefined) {
      check.status = 'unauthorized';
      continue;
    }
    if (typeof ref === 'string') {
      check.status = 'key-invalid';
      addFailure(ctx, 'FUNCTIONARY_KEY_INVALID', 'link-signatures', ref, { item: step.name, keyid });
      continue;
    }
    const signature = checkSignature(metadata, ref.keyid, ref.key);
    if (signature !== 'valid') {
      check.status = signature === 'missing' ? 'signature-missing' : 'signature-invalid';
      continue;
    }
    check.status = 'verified';
    verifiers.push(ref.keyid);
    state.verified.push({ keyid, verifiedBy: ref.keyid, metadata, link: metadata.type === 'link' ? metadata.signed : undefined });
  }
  // Links verified by the same key count once.
  state.distinctVerifiers = new Set(verifiers).size;
  if (state.distinctVerifiers < step.threshold) {
    addFailure(
      ctx,
      'STEP_THRESHOLD_NOT_MET',
      'link-signatures',
      `step '${step.name}' requires ${step.threshold} link(s) validly signed by distinct authorized functionaries, found ${state.distinctVerifiers}`,
      { item: step.name },
    );
  }
}

/** verify_sublayouts: verify each sublayout and replace it by its summary link. */
async function verifySublayouts(ctx: Context, layout: Layout, states: StepState[], cache: Map<string, KeyRef | string>): Promise<void> {
  for (const state of states) {
    for (const entry of state.verified) {
      if (entry.metadata.type !== 'layout') continue;
      const check = state.checks.get(entry.keyid) as { status: LinkStatus; sublayout: boolean };
      const ref = functionaryKey(layout, entry.keyid, cache) as KeyRef;
      const path = [...ctx.sublayoutPath, { stepName: state.step.name, keyid: entry.keyid, dirName: sublayoutLinkDirName(state.step.name, entry.keyid) }];
      const loader = ctx.input.loadSublayoutLinks;
      let links: StepLinks;
      try {
        if (loader === undefined) throw new Error('no sublayout link loader was given');
        links = await loader({ path, layout: entry.metadata.signed });
      } catch (e) {
        check.status = 'sublayout-failed';
        addFailure(ctx, 'SUBLAYOUT_LINKS_UNAVAILABLE', 'sublayouts', `links of sublayout '${state.step.name}' (${entry.keyid}): ${(e as Error).message}`, {
          item: state.step.name,
          keyid: entry.keyid,
        });
        continue;
      }
      const sub = await verifyRecursive(
        { ...ctx, sublayoutPath: path, mayRunCommands: ctx.mayRunCommands && ctx.failures.length === 0, failures: [], warnings: [] },
        entry.metadata,
        [ref],
        1,
        links,
        state.step.name,
      );
      ctx.warnings.push(...sub.warnings.map((w) => ({ ...w, message: `sublayout '${state.step.name}': ${w.message}` })));
      if (!sub.passed || sub.summaryLink === undefined) {
        check.status = 'sublayout-failed';
        addFailure(ctx, 'SUBLAYOUT_FAILED', 'sublayouts', `sublayout '${state.step.name}' (${entry.keyid}) failed: ${sub.referenceStop?.message ?? 'no summary'}`, {
          item: state.step.name,
          keyid: entry.keyid,
          sublayout: sub,
        });
        continue;
      }
      entry.link = sub.summaryLink;
    }
    // A failed sublayout provides no link.
    state.verified = state.verified.filter((v) => v.link !== undefined);
  }
}

function commandsEqual(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** verify_all_steps_command_alignment: warnings only (spec §4.3.1). */
function checkCommands(ctx: Context, states: StepState[]): void {
  for (const { step, verified } of states) {
    for (const { keyid, link } of verified) {
      if (link === undefined) continue;
      if (!commandsEqual(link.command, step.expectedCommand)) {
        ctx.warnings.push({
          code: 'COMMAND_MISMATCH',
          item: step.name,
          keyid,
          message: `step '${step.name}': command ${JSON.stringify(link.command)} differs from expected ${JSON.stringify(step.expectedCommand)}`,
        });
      }
      if (link.name !== step.name) {
        ctx.warnings.push({ code: 'LINK_NAME_MISMATCH', item: step.name, keyid, message: `the link for step '${step.name}' is named '${link.name}'` });
      }
    }
  }
}

function artifactMapsEqual(a: ArtifactPathMap, b: ArtifactPathMap): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && hashDictsEqual(a[k] as Record<string, string>, b[k] as Record<string, string>));
}

/** verify_threshold_constraints: all links of a multi-functionary step report the same artifacts. */
function checkThresholdConstraints(ctx: Context, states: StepState[]): void {
  for (const { step, verified } of states) {
    if (step.threshold <= 1) continue;
    const reference = verified[0];
    if (verified.length < step.threshold && !failedItems(ctx).has(step.name)) {
      addFailure(ctx, 'STEP_THRESHOLD_NOT_MET', 'threshold-constraints', `step '${step.name}' not performed by enough functionaries`, { item: step.name });
    }
    for (const other of verified.slice(1)) {
      const a = reference?.link as Link;
      const b = other.link as Link;
      if (!artifactMapsEqual(a.materials, b.materials) || !artifactMapsEqual(a.products, b.products)) {
        addFailure(
          ctx,
          'LINKS_DISAGREE',
          'threshold-constraints',
          `links of step '${step.name}' by ${reference?.keyid ?? ''} and ${other.keyid} report different artifacts`,
          { item: step.name, keyid: other.keyid },
        );
      }
    }
  }
}

function ruleFailureCode(f: RuleFailure): LayoutFailureCode {
  return f.code === 'DISALLOWED' ? 'RULE_DISALLOWED' : f.code === 'REQUIRED_MISSING' ? 'RULE_REQUIRED_MISSING' : 'RULE_MATCH_SOURCE_UNRESOLVABLE';
}

function evaluateItem(
  ctx: Context,
  stage: 'step-rules' | 'inspection-rules',
  item: Step | Inspection,
  artifacts: ArtifactSets,
  links: ReadonlyMap<string, ArtifactSets>,
): { materialRules: RuleEvaluation; productRules: RuleEvaluation } {
  const materialRules = evaluateArtifactRules({ itemName: item.name, sourceType: 'materials', rules: item.expectedMaterials, artifacts, links });
  const productRules = evaluateArtifactRules({ itemName: item.name, sourceType: 'products', rules: item.expectedProducts, artifacts, links });
  for (const f of [...materialRules.failures, ...productRules.failures]) {
    addFailure(ctx, ruleFailureCode(f), stage, `${item.name} expected_${f.sourceType}: ${f.message}`, {
      item: f.item,
      sourceType: f.sourceType,
      ruleIndex: f.ruleIndex,
      rule: f.rule,
      artifact: f.artifact,
    });
  }
  return { materialRules, productRules };
}

/** reduce_chain_links + verify_all_item_rules for the steps. */
function checkStepRules(ctx: Context, states: StepState[]): Map<string, Link> {
  const reduced = new Map<string, Link>();
  const alreadyFailed = failedItems(ctx);
  for (const { step, verified } of states) {
    const link = verified[0]?.link;
    if (link !== undefined) reduced.set(step.name, link);
    else if (!alreadyFailed.has(step.name)) {
      addFailure(ctx, 'STEP_WITHOUT_LINK', 'threshold-constraints', `step '${step.name}' has no verified link`, { item: step.name });
    }
  }
  for (const state of states) {
    const link = reduced.get(state.step.name);
    if (link === undefined) continue;
    const result = evaluateItem(ctx, 'step-rules', state.step, link, reduced);
    state.materialRules = result.materialRules;
    state.productRules = result.productRules;
  }
  return reduced;
}

interface InspectionState {
  readonly inspection: Inspection;
  status: InspectionReport['status'];
  link?: Link;
  materialRules?: RuleEvaluation;
  productRules?: RuleEvaluation;
}

/** run_all_inspections, then verify_all_item_rules for the inspections. */
async function runInspections(ctx: Context, layout: Layout, reduced: Map<string, Link>): Promise<InspectionState[]> {
  const states: InspectionState[] = layout.inspect.map((inspection) => ({ inspection, status: 'skipped' }));
  if (states.length === 0) return states;
  // Step rules are checked before any inspection runs, so no inspection runs on rejected artifacts.
  if (ctx.failures.length > 0 || !ctx.mayRunCommands) {
    ctx.warnings.push({ code: 'INSPECTIONS_SKIPPED', message: `${states.length} inspection(s) not run: verification had already failed` });
    return states;
  }
  const runner = ctx.input.inspectionRunner;
  if (runner === undefined) {
    addFailure(ctx, 'INSPECTION_RUNNER_MISSING', 'inspections', 'the layout has inspections but no inspection runner was given');
    return states;
  }
  for (const state of states) {
    const { inspection } = state;
    try {
      state.link = await runner.run(inspection, { sublayoutPath: ctx.sublayoutPath });
    } catch (e) {
      state.status = 'error';
      addFailure(ctx, 'INSPECTION_ERROR', 'inspections', `inspection '${inspection.name}' could not run: ${(e as Error).message}`, { item: inspection.name });
      return states;
    }
    // _raise_on_bad_retval: the return value must be the integer 0.
    const rv = state.link.byproducts['return-value'];
    if (rv !== 0) {
      state.status = 'failed';
      addFailure(ctx, 'INSPECTION_FAILED', 'inspections', `inspection '${inspection.name}' returned ${JSON.stringify(rv ?? null)} from ${JSON.stringify(inspection.run)}`, {
        item: inspection.name,
      });
      return states;
    }
    state.status = 'passed';
  }
  // Inspection rules may MATCH against steps and inspections alike.
  const combined = new Map<string, ArtifactSets>(reduced);
  for (const s of states) combined.set(s.inspection.name, s.link as Link);
  for (const state of states) {
    const result = evaluateItem(ctx, 'inspection-rules', state.inspection, state.link as Link, combined);
    state.materialRules = result.materialRules;
    state.productRules = result.productRules;
  }
  return states;
}

/** get_summary_link. */
function summaryLink(layout: Layout, reduced: Map<string, Link>, name: string): Link | undefined {
  const firstStep = layout.steps[0];
  const lastStep = layout.steps[layout.steps.length - 1];
  if (firstStep === undefined || lastStep === undefined) return makeLink({ name });
  const first = reduced.get(firstStep.name);
  const last = reduced.get(lastStep.name);
  if (first === undefined || last === undefined) return undefined;
  return makeLink({ name, materials: first.materials, products: last.products, byproducts: last.byproducts, command: last.command });
}

function stepReport(state: StepState, failed: Set<string>): StepReport {
  return {
    name: state.step.name,
    threshold: state.step.threshold,
    links: [...state.checks].map(([keyid, c]): LinkCheck => ({ keyid, status: c.status, sublayout: c.sublayout })),
    verifiedFunctionaries: state.distinctVerifiers,
    ruleLinkKeyid: state.verified[0]?.keyid,
    materialRules: state.materialRules,
    productRules: state.productRules,
    passed: !failed.has(state.step.name),
  };
}

function inspectionReport(state: InspectionState, failed: Set<string>): InspectionReport {
  return {
    name: state.inspection.name,
    run: state.inspection.run,
    status: state.status,
    link: state.link,
    materialRules: state.materialRules,
    productRules: state.productRules,
    passed: state.status === 'passed' && !failed.has(state.inspection.name),
  };
}

interface Progress {
  layoutSignatures: LayoutSignatureCheck[];
  threshold: number;
  expires: string;
  expired: boolean;
  steps: StepState[];
  inspections: InspectionState[];
  summary?: Link | undefined;
}

function finish(ctx: Context, p: Progress): LayoutVerificationReport {
  const failed = failedItems(ctx);
  return {
    passed: ctx.failures.length === 0,
    failures: ctx.failures,
    referenceStop: ctx.failures[0],
    warnings: ctx.warnings,
    layoutSignatures: p.layoutSignatures,
    layoutThreshold: p.threshold,
    expires: p.expires,
    expired: p.expired,
    steps: p.steps.map((s) => stepReport(s, failed)),
    inspections: p.inspections.map((s) => inspectionReport(s, failed)),
    summaryLink: ctx.failures.length === 0 ? p.summary : undefined,
  };
}

/** in_toto_verify, one layout level. */
async function verifyRecursive(
  ctx: Context,
  signedLayout: SignedLayout,
  keys: readonly KeyRef[],
  threshold: number,
  links: StepLinks,
  summaryName: string,
): Promise<LayoutVerificationReport> {
  const expires = signedLayout.signed.expires;
  const expired = parseExpires(expires).getTime() < ctx.input.referenceTime.getTime();
  const p: Progress = {
    layoutSignatures: [],
    threshold,
    expires,
    expired,
    steps: [],
    inspections: signedLayout.signed.inspect.map((inspection) => ({ inspection, status: 'skipped' })),
  };
  // 1. Layout signatures: nothing else is trusted unless they hold.
  p.layoutSignatures = checkLayoutSignatures(signedLayout, keys);
  const valid = p.layoutSignatures.filter((c) => c.status === 'valid').length;
  if (valid < threshold) {
    addFailure(ctx, 'LAYOUT_SIGNATURE_INVALID', 'layout-signatures', `the layout has ${valid} valid signature(s) from its keys, ${threshold} required`);
    return finish(ctx, p);
  }
  // 2. Expiry.
  if (expired) addFailure(ctx, 'LAYOUT_EXPIRED', 'expiration', `the layout expired at ${expires}`);
  // 3. Parameter substitution (top level only: the reference passes none to sublayouts).
  const layout = applyParameters(ctx, signedLayout.signed);
  if (layout === undefined) return finish(ctx, p);
  // 4. Links by authorized functionaries, with the preliminary threshold check.
  p.steps = collectLinks(ctx, layout, links);
  // 5. Link signatures and thresholds.
  const cache = new Map<string, KeyRef | string>();
  for (const state of p.steps) verifyStepSignatures(ctx, layout, state, cache);
  // 6. Sublayouts, recursively.
  await verifySublayouts(ctx, layout, p.steps, cache);
  // 7. Expected commands: warnings only.
  checkCommands(ctx, p.steps);
  // 8. Links of one step agree.
  checkThresholdConstraints(ctx, p.steps);
  // 9. Step rules.
  const reduced = checkStepRules(ctx, p.steps);
  // 10-11. Inspections and their rules.
  p.inspections = await runInspections(ctx, layout, reduced);
  p.summary = summaryLink(layout, reduced, summaryName);
  return finish(ctx, p);
}

function checkInput(input: VerifyLayoutInput): number {
  const distinct = new Set(input.layoutKeys.map((k) => k.keyid)).size;
  // verify_layout_signatures: at least one key.
  if (distinct === 0) throw new InputError('INPUT_INVALID', 'layout verification needs at least one layout key');
  const threshold = input.layoutThreshold ?? distinct;
  if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > distinct) {
    throw new InputError('INPUT_INVALID', `layout threshold must be between 1 and ${distinct} (the number of distinct layout keys)`);
  }
  if (Number.isNaN(input.referenceTime.getTime())) throw new InputError('INPUT_INVALID', 'reference time is not a valid date');
  const parameters = input.parameters;
  if (parameters !== undefined) {
    // in_toto.formats.PARAMETER_DICTIONARY_SCHEMA.
    for (const name of Object.keys(parameters)) {
      if (!isParameterName(name)) throw new InputError('INPUT_INVALID', `parameter name '${name}' must match [a-zA-Z0-9_-]+`);
      if (typeof parameters[name] !== 'string') throw new InputError('INPUT_INVALID', `parameter '${name}' must be a string`);
    }
  }
  return threshold;
}

/**
 * Verifies a supply chain against a signed layout (verifylib.in_toto_verify): layout signatures,
 * expiry, parameter substitution, link signatures by authorized functionaries with thresholds,
 * sublayouts, command alignment (warnings), agreement of threshold links, step rules,
 * inspections and inspection rules. Throws InputError only for unusable input (no keys, a bad
 * threshold or parameter name); everything about the evidence is in the report.
 */
export async function verifyLayout(input: VerifyLayoutInput): Promise<LayoutVerificationReport> {
  const threshold = checkInput(input);
  const ctx: Context = { input, sublayoutPath: [], mayRunCommands: true, failures: [], warnings: [] };
  const keys = input.layoutKeys.map((key) => ({ keyid: key.keyid, key }));
  return verifyRecursive(ctx, input.layout, keys, threshold, input.links, '');
}

/**
 * Which link files in-toto-verify looks for: per step, per authorized key id, the file name
 * `<step>.<keyid8>.link`. Load those that exist into `StepLinks`.
 */
export function expectedLinkFiles(layout: Layout): { step: string; keyid: string; fileName: string }[] {
  return layout.steps.flatMap((step) => unique(step.pubkeys).map((keyid) => ({ step: step.name, keyid, fileName: linkFileName(step.name, keyid) })));
}
