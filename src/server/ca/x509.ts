// X.509 certificates of the keyless CA (RFC 5280), built with @peculiar/asn1-x509 and signed by
// any key backend signer (file or PKCS#11): the TBSCertificate is serialized, the backend signs
// its bytes, the Certificate wraps both. Also the Sigstore (Fulcio) OID extensions. Pure except
// for the random serial numbers.
import { X509Certificate as NodeX509, createHash, randomBytes, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { InputError, type KeyType } from '../../core/index.ts';
import { sequence, tlv, utf8String } from './der.ts';

export const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
export const OID_ECDSA_SHA384 = '1.2.840.10045.4.3.3';
export const OID_KP_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
export const OID_KP_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

/** Fulcio's certificate extensions (docs/oid-info.md of sigstore/fulcio). */
export const FULCIO_OID = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  issuerV2: '1.3.6.1.4.1.57264.1.8',
  buildSignerUri: '1.3.6.1.4.1.57264.1.9',
  buildSignerDigest: '1.3.6.1.4.1.57264.1.10',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryUri: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  sourceRepositoryIdentifier: '1.3.6.1.4.1.57264.1.15',
  sourceRepositoryOwnerUri: '1.3.6.1.4.1.57264.1.16',
  sourceRepositoryOwnerIdentifier: '1.3.6.1.4.1.57264.1.17',
  buildConfigUri: '1.3.6.1.4.1.57264.1.18',
  buildConfigDigest: '1.3.6.1.4.1.57264.1.19',
  buildTrigger: '1.3.6.1.4.1.57264.1.20',
  runInvocationUri: '1.3.6.1.4.1.57264.1.21',
  sourceRepositoryVisibilityAtSigning: '1.3.6.1.4.1.57264.1.22',
} as const;

export type CiExtension = Exclude<keyof typeof FULCIO_OID, 'issuerV1' | 'issuerV2'>;
export const CI_EXTENSIONS = Object.keys(FULCIO_OID).filter((k) => k !== 'issuerV1' && k !== 'issuerV2') as CiExtension[];

/** Signs the DER bytes of a TBSCertificate (ECDSA: DER signature). */
export interface CertSigner {
  readonly type: KeyType;
  readonly publicKey: KeyObject;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export type SanValue = { readonly email: string } | { readonly uri: string };

export interface CertTemplate {
  readonly subject: Name;
  readonly issuer: Name;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spkiDer: Uint8Array;
  /** Subject key identifier of the issuing key (authority key identifier); omitted for a self-signed root. */
  readonly issuerKeyId?: Uint8Array;
  readonly ca?: { pathLen?: number };
  /** Extended key usage of a leaf (code signing, or time stamping: critical, RFC 3161 §2.3). */
  readonly eku?: 'codeSigning' | 'timeStamping';
  readonly san?: SanValue;
  /** Extra non-critical extensions: OID → DER value. */
  readonly extra?: readonly (readonly [string, Uint8Array])[];
}

const ab = (b: Uint8Array): ArrayBuffer => new Uint8Array(b).buffer;

export function signatureAlgorithm(type: KeyType): string {
  if (type === 'ecdsa-p256') return OID_ECDSA_SHA256;
  if (type === 'ecdsa-p384') return OID_ECDSA_SHA384;
  throw new InputError('KEY_UNSUPPORTED', `a CA key must be ECDSA P-256 or P-384, not ${type}`);
}

/** A distinguished name of organization and common name (UTF8String values). */
export function distinguishedName(organization: string, commonName: string): Name {
  const rdn = (type: string, value: string) => new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
  return new Name([rdn('2.5.4.10', organization), rdn('2.5.4.3', commonName)]);
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents. */
export function keyIdentifier(spkiDer: Uint8Array): Buffer {
  const spki = AsnConvert.parse(spkiDer, SubjectPublicKeyInfo);
  return createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest();
}

function ext(extnID: string, critical: boolean, value: Uint8Array | ArrayBuffer): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(value instanceof ArrayBuffer ? value : ab(value)) });
}

/** A random positive serial number of 20 octets (RFC 5280 §4.1.2.2). */
function serialNumber(): ArrayBuffer {
  const s = randomBytes(20);
  s[0] = (s[0]! & 0x7f) | 0x01;
  return ab(s);
}

export async function buildCertificate(t: CertTemplate, signer: CertSigner): Promise<Buffer> {
  const sigAlg = new AlgorithmIdentifier({ algorithm: signatureAlgorithm(signer.type) });
  const extensions: Extension[] = [];
  if (t.ca !== undefined) {
    extensions.push(ext(id_ce_basicConstraints, true, AsnConvert.serialize(new BasicConstraints({ cA: true, ...(t.ca.pathLen === undefined ? {} : { pathLenConstraint: t.ca.pathLen }) }))));
    extensions.push(ext(id_ce_keyUsage, true, AsnConvert.serialize(new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign))));
  } else {
    extensions.push(ext(id_ce_keyUsage, true, AsnConvert.serialize(new KeyUsage(KeyUsageFlags.digitalSignature))));
  }
  if (t.eku !== undefined) {
    const purpose = t.eku === 'codeSigning' ? OID_KP_CODE_SIGNING : OID_KP_TIME_STAMPING;
    extensions.push(ext(id_ce_extKeyUsage, t.eku === 'timeStamping', AsnConvert.serialize(new ExtendedKeyUsage([purpose]))));
  }
  extensions.push(ext(id_ce_subjectKeyIdentifier, false, AsnConvert.serialize(new SubjectKeyIdentifier(ab(keyIdentifier(t.spkiDer))))));
  if (t.issuerKeyId !== undefined) {
    extensions.push(ext(id_ce_authorityKeyIdentifier, false, AsnConvert.serialize(new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(ab(t.issuerKeyId)) }))));
  }
  if (t.san !== undefined) {
    const name = 'email' in t.san ? new GeneralName({ rfc822Name: t.san.email }) : new GeneralName({ uniformResourceIdentifier: t.san.uri });
    // RFC 5280 §4.2.1.6: critical when the subject is empty (Fulcio's leaves have none).
    extensions.push(ext(id_ce_subjectAltName, t.subject.length === 0, AsnConvert.serialize(new SubjectAlternativeName([name]))));
  }
  for (const [id, value] of t.extra ?? []) extensions.push(ext(id, false, value));
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialNumber(),
    signature: sigAlg,
    issuer: t.issuer,
    validity: new Validity({ notBefore: t.notBefore, notAfter: t.notAfter }),
    subject: t.subject,
    subjectPublicKeyInfo: AsnConvert.parse(t.spkiDer, SubjectPublicKeyInfo),
    extensions: new Extensions(extensions),
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = await signer.sign(tbsDer);
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING } (the
  // TBS bytes as signed, not serialized a second time).
  return sequence(tbsDer, Buffer.from(AsnConvert.serialize(sigAlg)), tlv(0x03, Buffer.of(0), signature));
}

/** Fulcio's issuer extensions: V1 the raw string, V2 a DER UTF8String. */
export function issuerExtensions(issuer: string): [string, Uint8Array][] {
  return [
    [FULCIO_OID.issuerV1, Buffer.from(issuer, 'utf8')],
    [FULCIO_OID.issuerV2, utf8String(issuer)],
  ];
}

/** The CI extensions (V2 forms: DER UTF8String) for the values that exist. */
export function ciExtensions(values: Partial<Record<CiExtension, string>>): [string, Uint8Array][] {
  return CI_EXTENSIONS.flatMap((k) => (values[k] === undefined ? [] : [[FULCIO_OID[k], utf8String(values[k])] as [string, Uint8Array]]));
}

export function toPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

/** Every certificate of a PEM bundle, as DER. */
export function pemCertificates(text: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g)) out.push(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  return out;
}

/** Node's parsed view of a DER certificate; InputError on garbage. */
export function parseCertificate(der: Uint8Array): NodeX509 {
  try {
    return new NodeX509(der);
  } catch (e) {
    throw new InputError('INPUT_INVALID', 'not a DER X.509 certificate', { cause: e });
  }
}

/** The Name of a certificate's subject (to use as the issuer of certificates it signs). */
export function subjectName(der: Uint8Array): Name {
  return AsnConvert.parse(der, Certificate).tbsCertificate.subject;
}

export function spkiOf(der: Uint8Array): Buffer {
  return parseCertificate(der).publicKey.export({ type: 'spki', format: 'der' });
}

/** The DER value of an extension of a certificate, when present. */
export function extensionValue(der: Uint8Array, oidText: string): Buffer | undefined {
  const exts = AsnConvert.parse(der, Certificate).tbsCertificate.extensions ?? [];
  const e = exts.find((x) => x.extnID === oidText);
  return e === undefined ? undefined : Buffer.from(e.extnValue.buffer);
}
