// tlog: RFC 6962 Merkle trees, C2SP tlog-tiles, signed notes, checkpoints and cosignatures,
// proofs, and a file-backed tiled log. The public API of the folder, listed explicitly.
export { HASH_SIZE, leafHash, nodeHash, emptyRoot, rootFromLeafHashes, merkleTreeHash, hashesEqual } from './merkle-hash.ts';
export {
  rootFromInclusionProof,
  verifyInclusion,
  verifyConsistency,
  inclusionProof,
  inclusionProofs,
  consistencyProof,
  treeRoot,
} from './merkle-proof.ts';
export type { NodeId, HashReader } from './merkle-proof.ts';
export {
  TILE_HEIGHT,
  TILE_WIDTH,
  formatTileIndex,
  tilePath,
  entryBundlePath,
  parseTilePath,
  tileWidth,
  entryBundleWidth,
  tileLevels,
  partialTiles,
  tilesAtLevel,
  nodeLocation,
} from './tile-path.ts';
export type { Tile, EntryBundle, ParsedTilePath, NodeLocation } from './tile-path.ts';
export { MAX_ENTRY_SIZE, encodeHashTile, decodeHashTile, encodeEntryBundle, decodeEntryBundle } from './tile-codec.ts';
export {
  readHashTile,
  readEntryBundle,
  readEntry,
  TileHashReader,
  proveInclusion,
  proveConsistency,
} from './tile-reader.ts';
export type { TileFetcher, TileHashReaderOptions, TreeHead } from './tile-reader.ts';
export { EMPTY_EDGE, edgeRoot, integrate, integrateLeafHashes, loadTreeEdge } from './tree-builder.ts';
export type { TreeEdge, TileWrite, IntegrateResult } from './tree-builder.ts';
export {
  SIGNATURE_TYPE_ED25519,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  isValidKeyName,
  noteKeyId,
  formatKeyId,
  noteVerifierFromPublicKey,
  formatVerifierKey,
  parseVerifierKey,
  parseCosignatureVerifierKey,
  parseSignerKey,
  generateNoteKey,
} from './note-keys.ts';
export type { NoteKeyAlgorithm, NoteVerifier, NoteSigner, NoteKeyPair, CosignerOptions } from './note-keys.ts';
export { MAX_NOTE_SIGNATURES, MAX_NOTE_SIZE, parseNote, openNote, signNote, formatSignatureLine, checkNoteText } from './note.ts';
export type { NoteSignature, ParsedNote, OpenedNote } from './note.ts';
export { COSIGNATURE_SIZE, cosignatureMessage, parseCosignature } from './cosignature.ts';
export { formatCheckpoint, parseCheckpoint, signCheckpoint, openCheckpoint } from './checkpoint.ts';
export type { Checkpoint, OpenCheckpointOptions, OpenedCheckpoint, Cosignature } from './checkpoint.ts';
export { CHECKPOINT_PATH, FileTileFetcher, PosixLogAppender, readPosixCheckpoint, appendToPosixLog, verifyPosixLog } from './posix-log.ts';
export type { ReadCheckpointOptions, AppendOptions, AppendResult, PosixLogAppenderOptions, VerifyPosixLogOptions, VerifyPosixLogResult } from './posix-log.ts';
export { hashedRekordBody, dsseBody, entryKindVersion } from './rekor-body.ts';
export type { RekorVerifier, HashedRekordInput, DsseBodyInput, KindVersion } from './rekor-body.ts';
export { logIdentity, sigstoreTlogEntry, sigstoreTrustedRoot } from './sigstore-entry.ts';
export type { SigstoreTlogEntry, LogIdentity, TlogEntryInput } from './sigstore-entry.ts';
export { formatAddCheckpointRequest, parseAddCheckpointRequest, decideAddCheckpoint } from './witness.ts';
export type { AddCheckpointRequest, AddCheckpointDecision } from './witness.ts';
export { HttpTileFetcher, findLeafIndex } from './http-fetcher.ts';
export { monitorLog, checkLogOnce, readMonitorState, MonitorAlarm, monitorAlarmKind, MONITOR_ALARM_KINDS } from './monitor.ts';
export type { MonitorState, CheckpointReport, MonitorLogOptions, MonitorAlarmKind } from './monitor.ts';
export { MemoHashReader } from './memo-hash-reader.ts';
export { LeafIndex, indexLeaves, lookupLeaves } from './leaf-index.ts';
