// Sigstore bundle v0.3, key-based: model, builders, strict parser.
export { SIGSTORE_BUNDLE_V03_MEDIA_TYPE } from './model.ts';
export type { BundleMessageSignature, BundleTlogEntry, SigstoreBundleV03 } from './model.ts';
export { buildDsseBundle, buildMessageSignatureBundle } from './build.ts';
export type { DsseBundleInput, MessageSignatureBundleInput } from './build.ts';
export { parseSigstoreBundleV03 } from './parse.ts';
