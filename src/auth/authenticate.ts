/**
 * One authenticator for the HTTP transport: device tokens (`Authorization: Bearer pvemcp_…`) and, when the operator
 * turned it on, PVE tokens (`Authorization: PVEAPIToken=…`). Either or both; a credential is always required.
 * @module
 */
import { type Principal } from "../core/mod.ts";
import type { PveApi } from "../pve/types.ts";
import { type DeviceTokenStore, principalForDevice } from "./device_tokens.ts";
import { parsePveTokenHeader, type PveTokenVerifier } from "./pve_token.ts";

/** Outcome of {@linkcode Authenticator.authenticate}. `label` names the credential for logs and audit (never secret). */
export type AuthResult =
  | { ok: true; principal: Principal; label: string; pve?: PveApi }
  | { ok: false; status: 401 | 403 | 503; reason: string; label?: string };

/** Checks the `Authorization` header of a request. */
export interface Authenticator {
  authenticate(authorization: string | null): Promise<AuthResult>;
  /** The `WWW-Authenticate` value for a 401; `error` adds RFC 6750's `error="invalid_token"`. */
  challenge(error?: "invalid_token"): string;
}

const REASONS: Record<string, string> = {
  malformed: "the bearer token is not a pve-mcp device token",
  unknown: "the device token is not known",
  expired: "the device token has expired",
  revoked: "the device token was revoked",
};

/** Builds the authenticator; throws when neither credential kind is enabled. */
export function createAuthenticator(opts: { devices?: DeviceTokenStore; pve?: PveTokenVerifier }): Authenticator {
  if (opts.devices === undefined && opts.pve === undefined) {
    throw new Error("Cannot serve HTTP without client credentials: configure a tokens file or turn on PVE-token mode");
  }
  const challenge = (error?: "invalid_token") => {
    const parts: string[] = [];
    if (opts.devices !== undefined) {
      parts.push(`Bearer realm="pve-mcp"${error === undefined ? "" : `, error="${error}"`}`);
    }
    if (opts.pve !== undefined) parts.push(`PVEAPIToken realm="pve-mcp"`);
    return parts.join(", ");
  };
  return {
    challenge,
    async authenticate(authorization) {
      const value = authorization?.trim() ?? "";
      if (value === "") return { ok: false, status: 401, reason: "no credential" };
      const bearer = /^Bearer\s+(\S+)$/i.exec(value);
      if (bearer?.[1] !== undefined) {
        if (opts.devices === undefined) return { ok: false, status: 401, reason: "device tokens are not enabled" };
        const check = await opts.devices.verify(bearer[1]);
        if (!check.ok) {
          return {
            ok: false,
            status: 401,
            reason: REASONS[check.reason] ?? "invalid token",
            ...(check.name !== undefined && { label: `device:${check.name}` }),
          };
        }
        const principal = principalForDevice(check.token);
        return { ok: true, principal, label: principal.id };
      }
      if (/^PVEAPIToken[= ]/i.test(value)) {
        if (opts.pve === undefined) return { ok: false, status: 401, reason: "PVE-token mode is off" };
        const cred = parsePveTokenHeader(value);
        if (cred === undefined) return { ok: false, status: 401, reason: "the PVEAPIToken value is malformed" };
        const check = await opts.pve.verify(cred);
        if (!check.ok) return { ok: false, status: check.status, reason: check.reason, label: `pve:${cred.tokenId}` };
        return {
          ok: true,
          principal: check.identity.principal,
          label: check.identity.principal.id,
          pve: check.identity.api,
        };
      }
      return { ok: false, status: 401, reason: "unsupported authorization scheme" };
    },
  };
}
