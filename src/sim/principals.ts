/**
 * Who may talk to the simulator: users (password → ticket) and API tokens, each with an ACL. Defaults: an admin, an
 * operator and a read-only auditor token, and the users `root@pam` (everything) and `auditor@pve` (read-only).
 * @module
 */
import { randomUUID } from "node:crypto";
import {
  type AclEntry,
  AUDITOR_PRIVS,
  OPERATOR_PRIVS,
  parseTokenHeader,
  secretsEqual,
  type SimPrincipal,
  TicketAuthority,
  ticketFrom,
} from "./auth.ts";

/** How a caller can describe a token. Either `privs` (granted on `/`) or a full `acl`. */
export interface TokenSpec {
  /** `user@realm!name`. */
  tokenId?: string;
  /** Default: a random UUID. */
  secret?: string;
  privs?: string[];
  acl?: AclEntry[];
}

/** How a caller can describe a user with a password. */
export interface UserSpec {
  /** `user@realm`. */
  userid?: string;
  /** Default: random. */
  password?: string;
  privs?: string[];
  acl?: AclEntry[];
}

/** Credentials handed back to tests and printed by `simulate`. */
export interface TokenCredentials {
  tokenId: string;
  secret: string;
  /** Ready-made `Authorization` header value. */
  header: string;
}

/** Username and password for ticket login. */
export interface UserCredentials {
  username: string;
  password: string;
}

const DEFAULT_TOKENS: Record<string, TokenSpec> = {
  admin: { tokenId: "root@pam!mcp-admin", privs: ["*"] },
  operator: { tokenId: "mcp@pve!operator", privs: OPERATOR_PRIVS },
  auditor: { tokenId: "mcp@pve!auditor", privs: AUDITOR_PRIVS },
};
const DEFAULT_USERS: Record<string, UserSpec> = {
  admin: { userid: "root@pam", privs: ["*"] },
  auditor: { userid: "auditor@pve", privs: AUDITOR_PRIVS },
};

/** The outcome of authenticating a request. */
export type AuthOutcome =
  | { ok: true; principal: SimPrincipal; kind: "token" | "ticket"; csrf?: string }
  | { ok: false; reason: string };

const aclOf = (s: { privs?: string[]; acl?: AclEntry[] }): AclEntry[] => s.acl ?? [{ path: "/", privs: s.privs ?? [] }];

/** Users, tokens and tickets of one simulator. */
export class PrincipalDb {
  readonly tickets = new TicketAuthority();
  readonly #tokens = new Map<string, { secret: string; principal: SimPrincipal }>();
  readonly #users = new Map<string, { password: string; principal: SimPrincipal }>();
  readonly tokenCredentials: Record<string, TokenCredentials> = {};
  readonly userCredentials: Record<string, UserCredentials> = {};

  constructor(tokens: Record<string, TokenSpec> = {}, users: Record<string, UserSpec> = {}) {
    for (const [name, given] of Object.entries({ ...DEFAULT_TOKENS, ...tokens })) {
      const spec = { ...DEFAULT_TOKENS[name], ...given };
      const tokenId = spec.tokenId ?? `mcp@pve!${name}`;
      const secret = spec.secret ?? randomUUID();
      const [userid = tokenId, tokenid] = tokenId.split("!");
      const principal: SimPrincipal = { id: tokenId, userid, acl: aclOf(spec) };
      if (tokenid !== undefined) principal.tokenid = tokenid;
      this.#tokens.set(tokenId, { secret, principal });
      this.tokenCredentials[name] = { tokenId, secret, header: `PVEAPIToken=${tokenId}=${secret}` };
    }
    for (const [name, given] of Object.entries({ ...DEFAULT_USERS, ...users })) {
      const spec = { ...DEFAULT_USERS[name], ...given };
      const userid = spec.userid ?? `${name}@pve`;
      const password = spec.password ?? randomUUID().replaceAll("-", "").slice(0, 20);
      this.#users.set(userid, { password, principal: { id: userid, userid, acl: aclOf(spec) } });
      this.userCredentials[name] = { username: userid, password };
    }
  }

  /** Authenticates a request by API token header, else by ticket cookie/header. */
  authenticate(headers: Headers, nowSeconds: number, ticketExpired: boolean): AuthOutcome {
    const authorization = headers.get("authorization");
    const token = parseTokenHeader(authorization);
    if (token) {
      const t = this.#tokens.get(token.tokenId);
      if (!t || !secretsEqual(t.secret, token.secret)) return { ok: false, reason: "Authentication failed!" };
      return { ok: true, principal: t.principal, kind: "token" };
    }
    const ticket = ticketFrom(headers.get("cookie"), authorization);
    if (ticket === undefined) return { ok: false, reason: "No ticket" };
    const userid = ticketExpired ? undefined : this.tickets.verifyTicket(ticket, nowSeconds);
    const user = userid === undefined ? undefined : this.#users.get(userid);
    if (!user) return { ok: false, reason: "Authentication failed!" };
    const csrf = headers.get("csrfpreventiontoken");
    return csrf === null
      ? { ok: true, principal: user.principal, kind: "ticket" }
      : { ok: true, principal: user.principal, kind: "ticket", csrf };
  }

  /** True when the request carries a ticket and no token (so ticket faults apply). */
  carriesTicket(headers: Headers): boolean {
    const authorization = headers.get("authorization");
    return !parseTokenHeader(authorization) && ticketFrom(headers.get("cookie"), authorization) !== undefined;
  }

  /**
   * `POST /access/ticket`: checks the password (or a still-valid ticket passed as password, which renews it).
   * @returns the user's principal, or undefined for wrong credentials.
   */
  login(username: string, password: string, realm: string | undefined, nowSeconds: number): SimPrincipal | undefined {
    const userid = realm !== undefined && !username.includes("@") ? `${username}@${realm}` : username;
    const user = this.#users.get(userid);
    if (!user) return undefined;
    if (password.startsWith("PVE:")) {
      return this.tickets.verifyTicket(password, nowSeconds) === userid ? user.principal : undefined;
    }
    return secretsEqual(user.password, password) ? user.principal : undefined;
  }

  /** A user's principal (for tests). */
  user(userid: string): SimPrincipal | undefined {
    return this.#users.get(userid)?.principal;
  }

  /** A token's principal (for tests). */
  token(tokenId: string): SimPrincipal | undefined {
    return this.#tokens.get(tokenId)?.principal;
  }
}
