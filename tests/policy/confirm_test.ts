/**
 * Confirmation logic without a transport: the signed 2026-era state, and what counts as a human's yes.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import {
  bindingOf,
  canonicalJson,
  confirmChange,
  type ConfirmChannel,
  confirmMessage,
  type ConfirmRequest,
  ConfirmStateSigner,
  elicitParams,
  noElicitationMessage,
} from "../../src/policy/confirm.ts";

const REQ: ConfirmRequest = {
  tool: "guest_power",
  cluster: "default",
  args: { vmid: 105, action: "stop" },
  plan: {
    action: "stop VM 105",
    target: 'qemu 105 "db1" on pve2',
    current: "running",
    effect: "hard power-off: unsaved data in the guest is lost",
  },
  principal: "stdio",
};

Deno.test("confirm: canonical JSON ignores key order and undefined members", () => {
  deepStrictEqual(canonicalJson({ b: 1, a: [{ y: 2, x: undefined, w: "s" }] }), '{"a":[{"w":"s","y":2}],"b":1}');
});

Deno.test("confirm: the message names the exact target, current state and effect, cleaned", () => {
  const msg = confirmMessage({ ...REQ, plan: { ...REQ.plan, target: "qemu 105 \u202Eevil\u200B" } });
  ok(msg.includes("Action: stop VM 105"), msg);
  ok(msg.includes('Target: qemu 105 evil (cluster "default")'), msg);
  ok(msg.includes("Current state: running"), msg);
  ok(msg.includes("Effect: hard power-off"), msg);
  const p = elicitParams(REQ);
  deepStrictEqual(p.requestedSchema.required, ["confirm"]);
  deepStrictEqual((p.requestedSchema.properties.confirm as { type: string }).type, "boolean");
  ok(noElicitationMessage("guest_power", REQ.plan).includes("PROXMOX_MCP_CONFIRM_WITHOUT_ELICITATION=allow"));
});

Deno.test("confirm: signed state verifies once, for the same binding, before it expires", async () => {
  let now = 1_000_000;
  const signer = new ConfirmStateSigner({ now: () => now, ttlMs: 60_000 });
  const binding = await bindingOf(REQ);
  const other = await bindingOf({ ...REQ, args: { vmid: 106, action: "stop" } });
  const s1 = await signer.mint(binding);
  deepStrictEqual(await signer.verify(s1, other), "mismatch");
  deepStrictEqual(await signer.verify(s1, binding), "ok");
  deepStrictEqual(await signer.verify(s1, binding), "replayed");
  // Tampering with the body (re-pointing it at another binding) breaks the MAC.
  const s2 = await signer.mint(binding);
  const [p, body, mac] = s2.split(".");
  const forged = JSON.parse(atob(body!.replaceAll("-", "+").replaceAll("_", "/")));
  forged.b = other;
  const forgedBody = btoa(JSON.stringify(forged)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  deepStrictEqual(await signer.verify(`${p}.${forgedBody}.${mac}`, other), "mac");
  deepStrictEqual(await signer.verify("garbage", binding), "malformed");
  deepStrictEqual(await signer.verify(`${p}.${body}.!!`, binding), "malformed");
  // Another process (another key) cannot mint valid state.
  const stranger = new ConfirmStateSigner({ now: () => now });
  deepStrictEqual(await signer.verify(await stranger.mint(binding), binding), "mac");
  // Expiry.
  const s3 = await signer.mint(binding);
  now += 60_001;
  deepStrictEqual(await signer.verify(s3, binding), "expired");
});

function legacy(answer: unknown, canElicit = true): ConfirmChannel & { asked: number } {
  const ch = {
    era: "legacy" as const,
    canElicit,
    asked: 0,
    elicit: () => {
      ch.asked++;
      return Promise.resolve(answer as never);
    },
  };
  return ch;
}

Deno.test("confirm: legacy era accepts only accept + confirm=true", async () => {
  const signer = new ConfirmStateSigner();
  deepStrictEqual(await confirmChange(legacy({ action: "accept", content: { confirm: true } }), signer, REQ), {
    kind: "accepted",
  });
  deepStrictEqual(await confirmChange(legacy({ action: "accept", content: { confirm: false } }), signer, REQ), {
    kind: "declined",
    answer: "unchecked",
  });
  deepStrictEqual(await confirmChange(legacy({ action: "accept", content: { confirm: "true" } }), signer, REQ), {
    kind: "declined",
    answer: "unchecked",
  });
  deepStrictEqual(await confirmChange(legacy({ action: "accept" }), signer, REQ), {
    kind: "declined",
    answer: "unchecked",
  });
  deepStrictEqual(await confirmChange(legacy({ action: "decline" }), signer, REQ), {
    kind: "declined",
    answer: "decline",
  });
  deepStrictEqual(await confirmChange(legacy({ action: "cancel" }), signer, REQ), {
    kind: "declined",
    answer: "cancel",
  });
  const none = legacy({ action: "accept", content: { confirm: true } }, false);
  deepStrictEqual(await confirmChange(none, signer, REQ), { kind: "unsupported" });
  deepStrictEqual(none.asked, 0, "a client without the capability was asked");
});

Deno.test("confirm: a model-supplied confirm argument is not an answer", async () => {
  const signer = new ConfirmStateSigner();
  const req = { ...REQ, args: { ...REQ.args, confirm: true } };
  deepStrictEqual(await confirmChange({ era: "legacy", canElicit: false }, signer, req), { kind: "unsupported" });
  const first = await confirmChange({ era: "modern", canElicit: true }, signer, req);
  deepStrictEqual(first.kind, "input_required");
});

Deno.test("confirm: modern era asks with signed state and accepts only the matching, unspent answer", async () => {
  const signer = new ConfirmStateSigner();
  const first = await confirmChange({ era: "modern", canElicit: true }, signer, REQ);
  ok(first.kind === "input_required");
  const state = first.result.requestState!;
  const request = first.result.inputRequests!.confirm as { method: string; params: { message: string } };
  deepStrictEqual(request.method, "elicitation/create");
  ok(request.params.message.includes("stop VM 105"));
  const yes = { confirm: { action: "accept", content: { confirm: true } } };
  // An answer without state (or with forged state) is not accepted.
  const noState = await confirmChange({ era: "modern", canElicit: true, inputResponses: yes }, signer, REQ);
  deepStrictEqual(noState.kind, "input_required");
  // Forge the MAC by flipping one character well inside it (every bit of it is significant, unlike the last one's).
  const at = state.length - 10;
  const forgedState = state.slice(0, at) + (state[at] === "A" ? "B" : "A") + state.slice(at + 1);
  ok(forgedState !== state);
  const forged = await confirmChange(
    { era: "modern", canElicit: true, inputResponses: yes, requestState: forgedState },
    signer,
    REQ,
  );
  deepStrictEqual(forged, { kind: "invalid", reason: "mac" });
  // The state is bound to the arguments.
  const moved = await confirmChange(
    { era: "modern", canElicit: true, inputResponses: yes, requestState: state },
    signer,
    { ...REQ, args: { vmid: 999, action: "stop" } },
  );
  deepStrictEqual(moved, { kind: "invalid", reason: "mismatch" });
  deepStrictEqual(
    await confirmChange({ era: "modern", canElicit: true, inputResponses: yes, requestState: state }, signer, REQ),
    { kind: "accepted" },
  );
  deepStrictEqual(
    await confirmChange({ era: "modern", canElicit: true, inputResponses: yes, requestState: state }, signer, REQ),
    { kind: "invalid", reason: "replayed" },
  );
  const again = await confirmChange({ era: "modern", canElicit: true }, signer, REQ);
  ok(again.kind === "input_required");
  deepStrictEqual(
    await confirmChange(
      {
        era: "modern",
        canElicit: true,
        inputResponses: { confirm: { action: "decline" } },
        requestState: again.result.requestState,
      },
      signer,
      REQ,
    ),
    { kind: "declined", answer: "decline" },
  );
  deepStrictEqual(await confirmChange({ era: "modern", canElicit: false }, signer, REQ), { kind: "unsupported" });
});
