// Severity from CVSS vectors: scores computed by ae-cvss-calculator (CVSS 2.0, 3.0, 3.1 and 4.0
// per FIRST's specifications; 4.0 through the spec's macro-vector lookup), after we check the
// vector's syntax, since the library accepts partial vectors. Ratings per CVSS v3.1 §5 / v4.0 §2.
import cvss from 'ae-cvss-calculator';
import { InputError } from '../core/index.ts';

export type SeverityRating = 'none' | 'low' | 'medium' | 'high' | 'critical';
export const SEVERITY_ORDER: readonly SeverityRating[] = ['none', 'low', 'medium', 'high', 'critical'];

export interface CvssScore {
  version: '2.0' | '3.0' | '3.1' | '4.0';
  vector: string;
  score: number;
  rating: SeverityRating;
}

// CVSS v3.x §6: base metrics each exactly once, in any order, optional temporal/environmental.
const V3 = /^CVSS:3\.[01]\/((AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])\/)*(AV:[NALP]|AC:[LH]|PR:[NLH]|UI:[NR]|S:[UC]|[CIA]:[NLH]|E:[XUPFH]|RL:[XOTWU]|RC:[XURC]|[CIA]R:[XLMH]|MAV:[XNALP]|MAC:[XLH]|MPR:[XNLH]|MUI:[XNR]|MS:[XUC]|M[CIA]:[XNLH])$/;
const V3_BASE = ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'];
// CVSS v4.0 §7: the 11 base metrics in this order, then optional ones.
const V4 = /^CVSS:4\.0\/AV:[NALP]\/AC:[LH]\/AT:[NP]\/PR:[NLH]\/UI:[NPA]\/VC:[HLN]\/VI:[HLN]\/VA:[HLN]\/SC:[HLN]\/SI:[HLN]\/SA:[HLN](\/[A-Za-z]+:[A-Za-z]+)*$/;
const V2 = /^(AV:[NAL])\/(AC:[LMH])\/(Au:[MSN])\/(C:[NPC])\/(I:[NPC])\/(A:[NPC])(\/[A-Za-z]+:[A-Za-z]+)*$/;

export function ratingOf(score: number, version: CvssScore['version']): SeverityRating {
  if (version === '2.0') return score >= 7 ? 'high' : score >= 4 ? 'medium' : 'low';
  if (score === 0) return 'none';
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  if (score < 9) return 'high';
  return 'critical';
}

const scored = new Map<string, CvssScore>();

/** Parses and scores a CVSS vector; InputError CVSS_INVALID when it is not a complete vector. */
export function scoreCvss(vector: string): CvssScore {
  // Feeds repeat a few thousand distinct vectors across all records: score each once.
  let s = scored.get(vector);
  if (s === undefined) {
    s = computeCvss(vector);
    if (scored.size < 100_000) scored.set(vector, s);
  }
  return { ...s };
}

function computeCvss(vector: string): CvssScore {
  const v = vector.trim();
  let version: CvssScore['version'];
  let score: number | undefined;
  if (V4.test(v)) {
    version = '4.0';
    score = new cvss.Cvss4P0(v).calculateScores().overall;
  } else if (V3.test(v)) {
    const metrics = v.split('/').slice(1).map((m) => m.split(':')[0]!);
    const base = metrics.filter((m) => V3_BASE.includes(m));
    if (base.length !== V3_BASE.length || new Set(metrics).size !== metrics.length) {
      throw new InputError('CVSS_INVALID', `'${vector}' needs each CVSS v3 base metric exactly once`);
    }
    version = v.startsWith('CVSS:3.1') ? '3.1' : '3.0';
    const scores = version === '3.1' ? new cvss.Cvss3P1(v).calculateScores() : new cvss.Cvss3P0(v).calculateScores();
    score = scores.overall;
  } else if (V2.test(v.replace(/^\(|\)$/g, ''))) {
    version = '2.0';
    score = new cvss.Cvss2(v.replace(/^\(|\)$/g, '')).calculateScores().overall;
  } else {
    throw new InputError('CVSS_INVALID', `'${vector}' is not a CVSS v2, v3.x or v4.0 vector`);
  }
  if (typeof score !== 'number' || !Number.isFinite(score)) throw new InputError('CVSS_INVALID', `'${vector}' could not be scored`);
  return { version, vector: v, score, rating: ratingOf(score, version) };
}

export function isSeverityRating(s: string): s is SeverityRating {
  return (SEVERITY_ORDER as readonly string[]).includes(s);
}

export function atLeast(rating: SeverityRating, threshold: SeverityRating): boolean {
  return SEVERITY_ORDER.indexOf(rating) >= SEVERITY_ORDER.indexOf(threshold);
}
