import { Type } from 'typebox';
import type { UserRecord } from '../../services/identity/identity-records.ts';
import { CapabilitySchema, PagingQuery } from '../common-schemas.ts';

export const UserSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  email: Type.Optional(Type.String()),
  display_name: Type.Optional(Type.String()),
  external: Type.Boolean(),
  disabled: Type.Boolean(),
  is_superadmin: Type.Boolean(),
  permission_ids: Type.Array(Type.String()),
  denied_capabilities: Type.Array(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
});

/** The public view of a user: never the password hash. */
export function userView(user: UserRecord) {
  return {
    id: user.id,
    username: user.username,
    ...(user.email === undefined ? {} : { email: user.email }),
    ...(user.display_name === undefined ? {} : { display_name: user.display_name }),
    external: user.external,
    disabled: user.disabled,
    is_superadmin: user.is_superadmin,
    permission_ids: user.grants.map((g) => g.permission_id),
    denied_capabilities: user.denied_capabilities,
    created_at: user.created_at,
    updated_at: user.updated_at,
  };
}

/** A user id or a username (`/users/:id` accepts either; usernames may contain `.` and `@`). */
const UserRef = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' });
export const UserIdParams = Type.Object({ id: UserRef });
export const UserParams = Type.Object({ user: UserRef });
export const UserSessionParams = Type.Object({ user: UserRef, handle: Type.String({ pattern: '^[0-9a-f]{64}$' }) });

const Email = Type.String({ maxLength: 254, pattern: '^$|^[^\\s@]+@[^\\s@]+$' });

export const CreateUserBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 4096 }),
    email: Type.Optional(Email),
    display_name: Type.Optional(Type.String({ maxLength: 128 })),
    is_superadmin: Type.Optional(Type.Boolean()),
    permission_ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 256 })),
  },
  { additionalProperties: false },
);

export const PatchUserBody = Type.Object(
  {
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    email: Type.Optional(Email),
    display_name: Type.Optional(Type.String({ maxLength: 128 })),
    disabled: Type.Optional(Type.Boolean()),
    is_superadmin: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ListUsersQuery = Type.Object(
  {
    ...PagingQuery,
    username: Type.Optional(Type.String({ maxLength: 64 })),
    disabled: Type.Optional(Type.Boolean()),
    permission_id: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const PermissionIdsBody = Type.Object({ permission_ids: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 256 }) }, { additionalProperties: false });
export const DeniedBody = Type.Object({ capability_keys: Type.Array(CapabilitySchema, { maxItems: 16 }) }, { additionalProperties: false });
export const ChangePasswordBody = Type.Object(
  { current_password: Type.String({ minLength: 1, maxLength: 4096 }), new_password: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
);

export const SessionsSchema = Type.Object({
  sessions: Type.Array(
    Type.Object({
      handle: Type.String({ description: 'SHA-256 of the session cookie; the cookie itself never leaves the server' }),
      created_at: Type.String(),
      expires_at: Type.String(),
      provider: Type.String(),
      ip: Type.Optional(Type.String()),
      user_agent: Type.Optional(Type.String()),
    }),
  ),
});

export const EffectiveSchema = Type.Object({
  username: Type.String(),
  user_id: Type.String(),
  online: Type.Boolean(),
  superadmin: Type.Boolean(),
  superadmin_reason: Type.Optional(Type.String()),
  capabilities: Type.Array(Type.String()),
  patterns: Type.Record(Type.String(), Type.Array(Type.String())),
  roles: Type.Array(Type.String()),
  sources: Type.Array(Type.Object({ capability: Type.String(), kind: Type.String(), bundle: Type.Optional(Type.String()), role: Type.Optional(Type.String()) })),
  denied: Type.Array(Type.String()),
});
