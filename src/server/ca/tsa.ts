// RFC 3161 time-stamp authority: a TimeStampReq (DER) in, a TimeStampResp (DER) out, the token a
// CMS SignedData (RFC 5652) over a TSTInfo, signed by the TSA key with the ESS signing-certificate-v2
// attribute (RFC 5816) so that `openssl ts -verify` and sigstore-js accept it. The TSA certificate
// has the critical time-stamping extended key usage only (RFC 3161 §2.3).
import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  ContentInfo,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
  CMSVersion,
} from '@peculiar/asn1-cms';
import { Accuracy, MessageImprint, PKIFailureInfo, PKIFreeText, PKIFailureInfoFlags, PKIStatus, PKIStatusInfo, TSTInfo, TimeStampReq, TimeStampReqVersion, TimeStampResp, TimeStampToken } from '@peculiar/asn1-tsp';
import { InputError } from '../../core/index.ts';
import { octetString, oid, sequence, setOf } from './der.ts';
import { signatureAlgorithm, type CertSigner } from './x509.ts';

/** The policy under which every time-stamp is issued (Sigstore's timestamp-authority uses this arc). */
export const TSA_POLICY_OID = '1.3.6.1.4.1.57264.2';
const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';

const HASHES: Record<string, { name: string; length: number }> = {
  [OID_SHA256]: { name: 'sha256', length: 32 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', length: 48 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', length: 64 },
};

export interface TimestampAuthority {
  /** DER TimeStampReq → DER TimeStampResp (a rejection status for a request it will not serve). */
  timestamp(request: Uint8Array): Promise<Buffer>;
  /** The TSA certificate (DER). */
  readonly certificate: Buffer;
}

const ab = (b: Uint8Array): ArrayBuffer => new Uint8Array(b).buffer;

function rejection(flag: PKIFailureInfoFlags, text: string): Buffer {
  const resp = new TimeStampResp({ status: new PKIStatusInfo({ status: PKIStatus.rejection, failInfo: new PKIFailureInfo(flag), statusString: new PKIFreeText([text]) }) });
  return Buffer.from(AsnConvert.serialize(resp));
}

/** Parses a DER TimeStampReq; InputError when it is not one. */
export function parseTimestampRequest(der: Uint8Array): TimeStampReq {
  let req: TimeStampReq;
  try {
    req = AsnConvert.parse(der, TimeStampReq);
  } catch (e) {
    throw new InputError('INPUT_INVALID', 'the body is not a DER TimeStampReq (RFC 3161 §2.4.1)', { cause: e });
  }
  return req;
}

export function createTimestampAuthority(options: { certificate: Buffer; signer: CertSigner; now: () => Date }): TimestampAuthority {
  const cert = AsnConvert.parse(options.certificate, Certificate);
  const certHash = createHash('sha256').update(options.certificate).digest();
  const sigAlg = signatureAlgorithm(options.signer.type);
  return {
    certificate: options.certificate,
    async timestamp(request: Uint8Array): Promise<Buffer> {
      const req = parseTimestampRequest(request);
      if (req.version !== TimeStampReqVersion.v1) return rejection(PKIFailureInfoFlags.badDataFormat, 'version must be 1');
      const hash = HASHES[req.messageImprint.hashAlgorithm.algorithm];
      if (hash === undefined) return rejection(PKIFailureInfoFlags.badAlg, 'hash algorithm must be SHA-256, SHA-384 or SHA-512');
      if (req.messageImprint.hashedMessage.byteLength !== hash.length) return rejection(PKIFailureInfoFlags.badDataFormat, `the ${hash.name} imprint must be ${hash.length} bytes`);
      if (req.reqPolicy !== undefined && req.reqPolicy !== TSA_POLICY_OID) return rejection(PKIFailureInfoFlags.unacceptedPolicy, `only policy ${TSA_POLICY_OID} is served`);
      if (req.extensions !== undefined && req.extensions.length > 0) return rejection(PKIFailureInfoFlags.unacceptedExtension, 'no extensions are supported');

      const serial = randomBytes(16);
      serial[0] = (serial[0]! & 0x7f) | 0x01;
      // §2.4.2: genTime in UTC; the messageImprint and nonce copied from the request.
      const tst = new TSTInfo({
        version: 1,
        policy: TSA_POLICY_OID,
        messageImprint: new MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: req.messageImprint.hashAlgorithm.algorithm }), hashedMessage: req.messageImprint.hashedMessage }),
        serialNumber: ab(serial),
        // Whole seconds (accuracy is ±1 s anyway): DER drops trailing zeros of a fraction (X.690
        // §11.7.3), and sigstore-js's GeneralizedTime parser accepts only none or exactly three digits.
        genTime: new Date(Math.floor(options.now().getTime() / 1000) * 1000),
        accuracy: new Accuracy({ seconds: 1 }),
        ordering: false,
        ...(req.nonce === undefined ? {} : { nonce: req.nonce }),
      });
      const tstDer = Buffer.from(AsnConvert.serialize(tst));

      // RFC 5652 §5.3/§5.4: content-type and message-digest attributes, plus ESS signing-certificate-v2
      // (RFC 5816 §2.2.1: ESSCertIDv2 with the default SHA-256 hash algorithm omitted).
      const attrs = [
        sequence(oid(OID_CONTENT_TYPE), setOf([oid(OID_TST_INFO)])),
        sequence(oid(OID_MESSAGE_DIGEST), setOf([octetString(createHash('sha256').update(tstDer).digest())])),
        sequence(oid(OID_SIGNING_CERTIFICATE_V2), setOf([sequence(sequence(sequence(octetString(certHash))))])),
      ].sort((a, b) => Buffer.compare(a, b));
      const signature = await options.signer.sign(setOf(attrs));

      const signerInfo = new SignerInfo({
        version: CMSVersion.v1,
        sid: new SignerIdentifier({ issuerAndSerialNumber: new IssuerAndSerialNumber({ issuer: cert.tbsCertificate.issuer, serialNumber: cert.tbsCertificate.serialNumber }) }),
        digestAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA256 }),
        signedAttrs: attrs.map((a) => AsnConvert.parse(a, Attribute)),
        signatureAlgorithm: new AlgorithmIdentifier({ algorithm: sigAlg }),
        signature: new OctetString(ab(signature)),
      });
      const signedData = new SignedData({
        version: CMSVersion.v3,
        digestAlgorithms: new DigestAlgorithmIdentifiers([new AlgorithmIdentifier({ algorithm: OID_SHA256 })]),
        encapContentInfo: new EncapsulatedContentInfo({ eContentType: OID_TST_INFO, eContent: new EncapsulatedContent({ single: new OctetString(ab(tstDer)) }) }),
        ...(req.certReq ? { certificates: new CertificateSet([new CertificateChoices({ certificate: cert })]) } : {}),
        signerInfos: new SignerInfos([signerInfo]),
      });
      const token = new TimeStampToken(new ContentInfo({ contentType: OID_SIGNED_DATA, content: AsnConvert.serialize(signedData) }));
      return Buffer.from(AsnConvert.serialize(new TimeStampResp({ status: new PKIStatusInfo({ status: PKIStatus.granted }), timeStampToken: token })));
    },
  };
}

/** A DER TimeStampReq for a SHA-256 digest (what clients send). */
export function timestampRequest(sha256Digest: Uint8Array, options: { nonce?: Uint8Array; certReq?: boolean } = {}): Buffer {
  const req = new TimeStampReq({
    version: 1,
    messageImprint: new MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA256 }), hashedMessage: new OctetString(ab(sha256Digest)) }),
    certReq: options.certReq ?? true,
    ...(options.nonce === undefined ? {} : { nonce: ab(options.nonce) }),
  });
  return Buffer.from(AsnConvert.serialize(req));
}
