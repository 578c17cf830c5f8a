// Bearer-token authentication. `kcs up` mints an admin token and a token for
// the controllers; node agents get tokens scoped to their own node
// (node-auth.ts). A user carries groups, and the authorizer sees the verb,
// resource, subresource, namespace and name of each request.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface User {
  name: string;
  groups: string[];
}

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface RequestAttributes {
  verb: Verb;
  resource: string;
  subresource?: string;
  namespace?: string;
  /** For create, the name in the body. */
  name?: string;
  /** For list and watch. */
  fieldSelector?: string;
  /** A non-resource request (GET /metrics): its path, with resource ''. */
  path?: string;
}

export interface Authenticator {
  authenticate(token: string): User | undefined;
}

export type Authorizer = (user: User, attrs: RequestAttributes) => boolean | Promise<boolean>;

export const ADMIN_GROUP = 'system:masters';
export const ADMIN_USER: User = { name: 'admin', groups: [ADMIN_GROUP] };

export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Static tokens, compared in constant time. */
export class TokenAuthenticator implements Authenticator {
  private readonly entries: Array<{ digest: Buffer; user: User }>;
  /**
   * Tokens already verified, so the hash is not recomputed on every request
   * (it cost 3-5% of the server's time under load). Only tokens that passed
   * the constant-time check get in, so the cache reveals nothing new.
   */
  private readonly verified = new Map<string, User>();

  constructor(tokens: Record<string, User>) {
    this.entries = Object.entries(tokens).map(([token, user]) => ({ digest: digest(token), user }));
  }

  authenticate(token: string): User | undefined {
    const cached = this.verified.get(token);
    if (cached) return cached;
    const d = digest(token);
    let found: User | undefined;
    for (const e of this.entries) if (timingSafeEqual(d, e.digest)) found = e.user;
    if (found && this.verified.size < 10_000) this.verified.set(token, found);
    return found;
  }
}

export function adminTokenAuthenticator(token: string): TokenAuthenticator {
  return new TokenAuthenticator({ [token]: ADMIN_USER });
}

/** Admins may do anything; nobody else may do anything. */
export const adminOnlyAuthorizer: Authorizer = (user) => user.groups.includes(ADMIN_GROUP);

/** Tries each authenticator in turn. */
export function anyOf(...authenticators: Authenticator[]): Authenticator {
  return { authenticate: (token) => authenticators.reduce<User | undefined>((found, a) => found ?? a.authenticate(token), undefined) };
}

export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}
