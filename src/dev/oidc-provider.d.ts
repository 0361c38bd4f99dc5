/**
 * The part of oidc-provider 9's API that the development IdP uses, typed by hand
 * (the package ships JavaScript only and `@types/oidc-provider` is not installed).
 * Only what src/dev/ calls is declared; the provider's configuration stays an open record.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AdapterPayload = Record<string, unknown> & {
    grantId?: string;
    uid?: string;
    userCode?: string;
    consumed?: number;
  };

  /** Storage contract the provider calls once per model name. */
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Record<string, unknown>;
  }

  export interface Client {
    readonly clientId: string;
    grantTypeAllowed(type: string): boolean;
  }

  export interface Grant {
    readonly jti: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: 'opaque' | 'jwt';
    jwt?: { sign?: { alg?: string; kid?: string } };
  }

  export interface Token {
    readonly accountId?: string;
    readonly clientId?: string;
    readonly expiration: number;
    readonly tokenType: string;
    scope?: string;
    resourceServer?: unknown;
    save(): Promise<string>;
  }

  export interface TokenInit {
    accountId: string;
    client: Client;
    grantId: string;
    gty: string;
    scope?: string;
    resource?: string;
    rotations?: number;
  }

  export interface OIDCContext {
    readonly params: Readonly<Record<string, string | undefined>>;
    readonly client?: Client;
  }

  export interface ProviderContext {
    readonly oidc: OIDCContext;
    body: unknown;
  }

  export interface Interaction {
    readonly uid: string;
    readonly prompt: { name: string; details: Record<string, unknown> };
    readonly params: Readonly<Record<string, unknown>>;
    readonly session?: { accountId?: string };
    readonly grantId?: string;
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly issuer: string;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    registerGrantType(name: string, handler: (ctx: ProviderContext) => Promise<void>, params?: string[]): void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    readonly Grant: {
      new (init: { accountId: string; clientId: string }): Grant;
      find(id: string): Promise<Grant | undefined>;
    };
    readonly AccessToken: new (init: TokenInit) => Token;
    readonly RefreshToken: new (init: TokenInit) => Token;
    readonly ResourceServer: new (identifier: string, info: ResourceServerInfo) => unknown;
    readonly Client: { find(id: string): Promise<Client | undefined> };
  }

  export const errors: {
    InvalidGrant: new (detail?: string) => Error;
    InvalidTarget: new (detail?: string) => Error;
    InvalidRequest: new (detail?: string) => Error;
  };

  export default Provider;
}
