/** Registry invariant: the arguments that accept `secret://` are exactly those declared in `secretArgs`. */
import { z } from "zod";
import { ALL_TOOLS } from "../../src/tools/all.ts";
import { assert, assertEquals } from "../assert.ts";

Deno.test("secretArgs: every argument described as taking secret:// is declared, and only string arguments", () => {
  const declared: string[] = [];
  const described: string[] = [];
  for (const def of ALL_TOOLS) {
    const shape = def.input.shape as Record<string, z.ZodType>;
    for (const [arg, spec] of Object.entries(def.secretArgs ?? {})) {
      declared.push(`${def.name}.${arg}`);
      assert(shape[arg] !== undefined, `${def.name}.${arg} is not an argument`);
      assert(shape[arg]!.safeParse("secret://x").success, `${def.name}.${arg} does not take a string`);
      assert(spec.roundTrip === undefined || spec.roundTrip.length > 10, `${def.name}.${arg}: say how it comes back`);
    }
    for (const [arg, schema] of Object.entries(shape)) {
      let s: z.ZodType | undefined = schema;
      let text = "";
      while (s) {
        text += s.description ?? "";
        s = (s as { unwrap?: () => z.ZodType }).unwrap?.();
      }
      if (/secret:\/\//.test(text)) described.push(`${def.name}.${arg}`);
    }
  }
  assertEquals(declared.sort(), described.sort());
  assert(declared.length >= 5, declared.join(", "));
});
