/**
 * server.json, the entry for the official MCP Registry: validated against the schema it names ($schema, published at
 * static.modelcontextprotocol.io) with Ajv when that address can be reached (CI on the forge), skipped with a message
 * otherwise; offline, the registry's own rules that matter here, the version (src/version.ts) and the image label the
 * registry checks for an OCI package.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { readManifest } from "../../scripts/mcpb.ts";
import { VERSION } from "../../src/version.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const server = JSON.parse(await Deno.readTextFile(join(ROOT, "server.json")));

interface Pkg {
  registryType: string;
  identifier: string;
  environmentVariables?: { name: string }[];
}

Deno.test("server.json: name, description, version, OCI image and label as the registry requires", async () => {
  match(
    server.$schema,
    /^https:\/\/static\.modelcontextprotocol\.io\/schemas\/\d{4}-\d{2}-\d{2}\/server\.schema\.json$/,
  );
  match(server.name, /^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/);
  ok(server.description.length >= 1 && server.description.length <= 100, `description: ${server.description.length}`);
  strictEqual(server.version, VERSION, "server.json's version must be src/version.ts's");
  const [oci, ...rest] = server.packages as Pkg[];
  deepStrictEqual(rest, []);
  strictEqual(oci?.registryType, "oci");
  strictEqual(oci?.identifier, `ghcr.io/pve-mcp/pve-mcp:${VERSION}`);
  for (const v of oci?.environmentVariables ?? []) match(v.name, /^PROXMOX_/);
  const release = await Deno.readTextFile(join(ROOT, ".github", "workflows", "release.yml"));
  ok(release.includes(`io.modelcontextprotocol.server.name=${server.name}`), "the image carries the registry's label");
  const manifest = await readManifest() as { repository?: { url: string } };
  strictEqual(server.repository.url, manifest.repository?.url, "one repository in server.json and the MCPB manifest");
});

async function publishedSchema(url: string): Promise<Record<string, unknown> | string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return `HTTP ${res.status}`;
    return await res.json();
  } catch (error) {
    return (error as Error).message;
  }
}

Deno.test("server.json validates against its published schema (skipped when static.modelcontextprotocol.io is unreachable)", async () => {
  const schema = await publishedSchema(server.$schema);
  if (typeof schema === "string") {
    console.log(`Cannot fetch ${server.$schema} (${schema.slice(0, 120)}): skipped; CI on the forge runs it`);
    return;
  }
  const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
  const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
  const validate = ajv.compile(schema);
  const valid = validate(server);
  deepStrictEqual(valid ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message}`), []);
  ok(!validate({ ...server, name: "no-slash" }), "the schema refuses a name without a namespace");
});
