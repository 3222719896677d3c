import { Type } from 'typebox';

/**
 * Schemas of the ESO webhook provider endpoints. Every parameter is optional text because ESO
 * renders one URL template for every operation: fields an operation does not supply arrive as
 * `<no value>` or empty, and count as absent (services/eso/eso-target.ts).
 */
const common = {
  key: Type.Optional(Type.String({ maxLength: 4096, description: 'Config path (`myapp/db`, also `myapp/db@prod` or `myapp/db?variant=prod&version=3`)' })),
  remoteKey: Type.Optional(Type.String({ maxLength: 4096, description: 'Same as key; what PushSecret templates fill (`{{ .remoteRef.remoteKey }}`)' })),
  variant: Type.Optional(Type.String({ maxLength: 64, description: 'Variant (environment) of the config' })),
  version: Type.Optional(Type.String({ maxLength: 64, description: 'Config version number, or an app semver version; default latest' })),
  property: Type.Optional(Type.String({ maxLength: 1024, description: 'Dot path into the resolved config (`db.host`, `hosts.0`, `tls.crt`)' })),
  ns: Type.Optional(Type.String({ maxLength: 253, description: 'The ExternalSecret namespace (`{{ .remoteRef.namespace }}`); accepted, not used yet' })),
};

export const EsoReadQuery = Type.Object(common, { additionalProperties: false });

/** The push URL is also read by PushSecret's `updatePolicy: IfNotExists` check, so it takes the read parameters too. */
export const EsoPushQuery = Type.Object(
  { ...common, format: Type.Optional(Type.String({ maxLength: 16, description: 'Format of a new config (json, yaml, toml, raw); default: the current one, else json for a JSON object and raw otherwise' })) },
  { additionalProperties: false },
);

export const EsoValue = Type.Object(
  { value: Type.String({ description: 'The property (or the whole config: raw text as saved, anything else as compact JSON) as text; numbers exactly as written' }) },
  { description: 'ESO reads it with result.jsonPath "$.value"' },
);

export const EsoPushBody = {
  content: {
    'application/json': {
      schema: Type.Object({ value: Type.Unknown({ description: 'The value: a string is stored as it is, anything else as compact JSON' }) }, { additionalProperties: false }),
    },
    'application/octet-stream': {
      schema: Type.Unknown({ description: 'The raw value (ESO’s default push body); also accepted without a Content-Type' }),
    },
  },
};

export const EsoPushResult = Type.Object({
  key: Type.String({ description: 'The config written (`path` or `path@variant`)' }),
  version: Type.Integer({ description: 'Its latest version' }),
  changed: Type.Boolean({ description: 'False when the value equals the latest version (no new version is made)' }),
});
