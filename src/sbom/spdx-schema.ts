// JSON Schema (draft-07) for SPDX 2.3 JSON documents, written by us from the SPDX 2.3
// specification (https://spdx.github.io/spdx-spec/v2.3/): clause numbers in the descriptions.
// It covers the document creation information (§6), packages (§7), files (§8), other licensing
// information (§10) and relationships (§11) with the spec's cardinalities and value formats.

const spdxId = { type: 'string', pattern: '^SPDXRef-[A-Za-z0-9.-]+$' } as const;
const elementRef = { type: 'string', pattern: '^(DocumentRef-[A-Za-z0-9.-]+:)?SPDXRef-[A-Za-z0-9.-]+$|^NOASSERTION$|^NONE$' } as const;

// §7.13/§7.15: a license expression (Annex D) or NONE / NOASSERTION. The grammar is checked by
// spdx-expression-parse in the validator; the schema only rules out empty strings.
const licenseField = { type: 'string', minLength: 1 } as const;

const checksum = {
  type: 'object',
  required: ['algorithm', 'checksumValue'],
  additionalProperties: false,
  properties: {
    // §7.10: the algorithms SPDX 2.3 lists.
    algorithm: {
      enum: ['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512', 'SHA3-256', 'SHA3-384', 'SHA3-512', 'MD2', 'MD4', 'MD5', 'MD6', 'BLAKE2b-256', 'BLAKE2b-384', 'BLAKE2b-512', 'BLAKE3', 'ADLER32'],
    },
    checksumValue: { type: 'string', pattern: '^[0-9a-f]+$' },
  },
} as const;

export const SPDX_23_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://custody.dev/schemas/spdx-2.3.json',
  title: 'SPDX 2.3 document (JSON)',
  type: 'object',
  required: ['spdxVersion', 'dataLicense', 'SPDXID', 'name', 'documentNamespace', 'creationInfo'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    spdxVersion: { const: 'SPDX-2.3', description: '§6.1' },
    dataLicense: { const: 'CC0-1.0', description: '§6.2' },
    SPDXID: { const: 'SPDXRef-DOCUMENT', description: '§6.3' },
    name: { type: 'string', minLength: 1, description: '§6.4' },
    documentNamespace: { type: 'string', format: 'uri', pattern: '^[^#]+$', description: '§6.5: a URI without #' },
    externalDocumentRefs: {
      type: 'array',
      description: '§6.6',
      items: {
        type: 'object',
        required: ['externalDocumentId', 'spdxDocument', 'checksum'],
        additionalProperties: false,
        properties: {
          externalDocumentId: { type: 'string', pattern: '^DocumentRef-[A-Za-z0-9.-]+$' },
          spdxDocument: { type: 'string', format: 'uri' },
          checksum,
        },
      },
    },
    comment: { type: 'string', description: '§6.10' },
    creationInfo: {
      type: 'object',
      required: ['created', 'creators'],
      additionalProperties: false,
      properties: {
        licenseListVersion: { type: 'string', pattern: '^\\d+\\.\\d+$', description: '§6.7' },
        // §6.8: "Tool: ...", "Organization: ...", "Person: ..."
        creators: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^(Tool|Organization|Person): .+' } },
        // §6.9: YYYY-MM-DDThh:mm:ssZ
        created: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$' },
        comment: { type: 'string' },
      },
    },
    documentDescribes: { type: 'array', items: spdxId, description: 'deprecated in 2.3; DESCRIBES relationships instead' },
    packages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'SPDXID', 'downloadLocation'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, description: '§7.1' },
          SPDXID: spdxId,
          versionInfo: { type: 'string', description: '§7.3' },
          packageFileName: { type: 'string' },
          supplier: { type: 'string', pattern: '^(NOASSERTION|(Person|Organization): .+)$' },
          originator: { type: 'string', pattern: '^(NOASSERTION|(Person|Organization): .+)$' },
          downloadLocation: { type: 'string', minLength: 1, description: '§7.7: URL, VCS locator, NONE or NOASSERTION' },
          filesAnalyzed: { type: 'boolean', description: '§7.8' },
          packageVerificationCode: {
            type: 'object',
            required: ['packageVerificationCodeValue'],
            properties: { packageVerificationCodeValue: { type: 'string', pattern: '^[0-9a-f]{40}$' }, packageVerificationCodeExcludedFiles: { type: 'array', items: { type: 'string' } } },
          },
          checksums: { type: 'array', items: checksum, description: '§7.10' },
          homepage: { type: 'string' },
          sourceInfo: { type: 'string' },
          licenseConcluded: licenseField,
          licenseInfoFromFiles: { type: 'array', items: licenseField },
          licenseDeclared: licenseField,
          licenseComments: { type: 'string' },
          copyrightText: { type: 'string', description: '§7.17: text, NONE or NOASSERTION' },
          summary: { type: 'string' },
          description: { type: 'string' },
          comment: { type: 'string' },
          externalRefs: {
            type: 'array',
            description: '§7.21',
            items: {
              type: 'object',
              required: ['referenceCategory', 'referenceType', 'referenceLocator'],
              additionalProperties: false,
              properties: {
                // 2.3 accepts both spellings of the package-manager category.
                referenceCategory: { enum: ['SECURITY', 'PACKAGE-MANAGER', 'PACKAGE_MANAGER', 'PERSISTENT-ID', 'PERSISTENT_ID', 'OTHER'] },
                referenceType: { type: 'string', minLength: 1 },
                referenceLocator: { type: 'string', pattern: '^\\S+$' },
                comment: { type: 'string' },
              },
            },
          },
          attributionTexts: { type: 'array', items: { type: 'string' } },
          // §7.24 (new in 2.3)
          primaryPackagePurpose: { enum: ['APPLICATION', 'FRAMEWORK', 'LIBRARY', 'CONTAINER', 'OPERATING-SYSTEM', 'DEVICE', 'FIRMWARE', 'SOURCE', 'ARCHIVE', 'FILE', 'INSTALL', 'OTHER'] },
          releaseDate: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$' },
          builtDate: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$' },
          validUntilDate: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$' },
          hasFiles: { type: 'array', items: spdxId },
          annotations: { type: 'array' },
        },
      },
    },
    files: {
      type: 'array',
      description: '§8',
      items: {
        type: 'object',
        required: ['fileName', 'SPDXID', 'checksums'],
        properties: {
          fileName: { type: 'string' },
          SPDXID: spdxId,
          checksums: { type: 'array', minItems: 1, items: checksum },
          licenseConcluded: licenseField,
          licenseInfoInFiles: { type: 'array', items: licenseField },
          copyrightText: { type: 'string' },
        },
      },
    },
    hasExtractedLicensingInfos: {
      type: 'array',
      description: '§10',
      items: {
        type: 'object',
        required: ['licenseId', 'extractedText'],
        additionalProperties: false,
        properties: {
          licenseId: { type: 'string', pattern: '^LicenseRef-[A-Za-z0-9.-]+$' },
          extractedText: { type: 'string', minLength: 1 },
          name: { type: 'string' },
          seeAlsos: { type: 'array', items: { type: 'string' } },
          comment: { type: 'string' },
        },
      },
    },
    relationships: {
      type: 'array',
      description: '§11',
      items: {
        type: 'object',
        required: ['spdxElementId', 'relationshipType', 'relatedSpdxElement'],
        additionalProperties: false,
        properties: {
          spdxElementId: elementRef,
          relatedSpdxElement: elementRef,
          relationshipType: {
            enum: [
              'DESCRIBES', 'DESCRIBED_BY', 'CONTAINS', 'CONTAINED_BY', 'DEPENDS_ON', 'DEPENDENCY_OF', 'DEPENDENCY_MANIFEST_OF',
              'BUILD_DEPENDENCY_OF', 'DEV_DEPENDENCY_OF', 'OPTIONAL_DEPENDENCY_OF', 'PROVIDED_DEPENDENCY_OF', 'TEST_DEPENDENCY_OF',
              'RUNTIME_DEPENDENCY_OF', 'EXAMPLE_OF', 'GENERATES', 'GENERATED_FROM', 'ANCESTOR_OF', 'DESCENDANT_OF', 'VARIANT_OF',
              'DISTRIBUTION_ARTIFACT', 'PATCH_FOR', 'PATCH_APPLIED', 'COPY_OF', 'FILE_ADDED', 'FILE_DELETED', 'FILE_MODIFIED',
              'EXPANDED_FROM_ARCHIVE', 'DYNAMIC_LINK', 'STATIC_LINK', 'DATA_FILE_OF', 'TEST_CASE_OF', 'BUILD_TOOL_OF', 'DEV_TOOL_OF',
              'TEST_OF', 'TEST_TOOL_OF', 'DOCUMENTATION_OF', 'OPTIONAL_COMPONENT_OF', 'METAFILE_OF', 'PACKAGE_OF', 'AMENDS',
              'PREREQUISITE_FOR', 'HAS_PREREQUISITE', 'REQUIREMENT_DESCRIPTION_FOR', 'SPECIFICATION_FOR', 'OTHER',
            ],
          },
          comment: { type: 'string' },
        },
      },
    },
    annotations: { type: 'array' },
    snippets: { type: 'array' },
  },
} as const;


