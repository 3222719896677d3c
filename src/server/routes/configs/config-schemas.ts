import { Type } from 'typebox';
import { FORMATS } from '../../domain/formats.ts';

export const FormatSchema = Type.Enum([...FORMATS, 'yml']);

export const InheritEntrySchema = Type.Object(
  {
    source: Type.Optional(Type.String({ maxLength: 4096, description: 'internal config path, optionally path@variant' })),
    resource: Type.Optional(Type.String({ maxLength: 64, description: 'name of an external resource from settings' })),
    path: Type.Optional(Type.String({ maxLength: 4096, description: 'path inside the external resource' })),
    paths: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 256, description: 'dot paths to pick; * matches one segment' })),
    inject: Type.Optional(Type.String({ maxLength: 512, description: 'dot path to nest the result under' })),
    format: Type.Optional(FormatSchema),
  },
  { additionalProperties: false },
);

export const MetaSchema = Type.Object(
  {
    format: FormatSchema,
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    inherits: Type.Optional(Type.Array(InheritEntrySchema, { maxItems: 64 })),
  },
  { additionalProperties: false },
);

export const VariantQuery = Type.Object({ variant: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });

export const FileQuery = Type.Object(
  { variant: Type.Optional(Type.String({ maxLength: 64 })), version: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);

export const DeleteFileQuery = Type.Object(
  { variant: Type.Optional(Type.String({ maxLength: 64 })), version: Type.Optional(Type.Integer({ minimum: 0 })) },
  { additionalProperties: false },
);

export const SaveFileBody = Type.Object(
  {
    meta: MetaSchema,
    data: Type.Optional(Type.String({ description: 'content, base64 (as upstream)' })),
    content: Type.Optional(Type.String({ description: 'content as UTF-8 text (alternative to data)' })),
    expected_version: Type.Optional(Type.Integer({ minimum: 0, description: 'optimistic concurrency: the latest version you saw (0 = new file)' })),
    constraint: Type.Optional(Type.String({ maxLength: 256, description: 'semver range this version targets' })),
  },
  { additionalProperties: false },
);

const ResolvedMeta = Type.Object({ format: Type.String(), description: Type.String(), inherits: Type.Array(InheritEntrySchema) });

export const FileSchema = Type.Object({
  path: Type.String(),
  variant: Type.Optional(Type.String()),
  version: Type.Integer(),
  constraint: Type.Optional(Type.String()),
  meta: ResolvedMeta,
  data: Type.String({ description: 'base64 of the exact stored bytes' }),
  author: Type.Optional(Type.String()),
  created_at: Type.Optional(Type.String()),
});

export const VersionSchema = Type.Object({
  version: Type.Integer(),
  constraint: Type.String(),
  effective_constraint: Type.String(),
  deleted: Type.Boolean(),
  status: Type.Array(Type.Object({ status: Type.String(), timestamp: Type.Integer(), author: Type.String() })),
});

export const ConstraintBody = Type.Object(
  { version: Type.Integer({ minimum: 1 }), constraint: Type.String({ maxLength: 256 }) },
  { additionalProperties: false },
);

export const FolderSchema = Type.Object({
  path: Type.String(),
  folders: Type.Array(Type.String()),
  files: Type.Array(Type.String()),
  variants: Type.Record(Type.String(), Type.Array(Type.String())),
});

export const RenderBody = Type.Object(
  { content: Type.String(), meta: MetaSchema, format: Type.Optional(FormatSchema) },
  { additionalProperties: false },
);

export const RenderResult = Type.Object({
  data: Type.String(),
  content: Type.String(),
  format: Type.String(),
  sources: Type.Optional(Type.Array(Type.String())),
  error: Type.Optional(Type.String()),
  code: Type.Optional(Type.String()),
  details: Type.Optional(Type.Object({}, { additionalProperties: true })),
});

export const ConvertBody = Type.Object({ content: Type.String(), from: FormatSchema, to: FormatSchema }, { additionalProperties: false });
export const ConvertResult = Type.Object({ content: Type.String(), format: Type.String() });
