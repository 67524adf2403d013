/**
 * Canary values for the leak test: one recognisable random value per secret setting, the forms a leak could take
 * (whole, the random core alone, base64, hex, URL-encoded), and a scanner that names what leaked where.
 * @module
 */
import { SETTINGS } from "../../src/config/settings.ts";

/** One canary. */
export interface Canary {
  /** What it stands in for (an environment variable or an argument). */
  label: string;
  value: string;
  /** Forms to look for besides the value itself. */
  forms: string[];
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A canary text value: `<label>-<random hex>` (printable, no separators PVE or a URL would mangle). */
export function textCanary(label: string): Canary {
  const core = hex(crypto.getRandomValues(new Uint8Array(12)));
  const value = `cnry${label.replace(/[^A-Za-z0-9]/g, "").slice(0, 12)}${core}`;
  return { label, value, forms: [core, btoa(value), encodeURIComponent(value)] };
}

/** A canary master key (32 random bytes, base64), also searched for as hex and URL-safe base64. */
export function keyCanary(label: string): Canary {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const value = btoa(String.fromCharCode(...raw));
  return {
    label,
    value,
    forms: [hex(raw), value.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""), value.slice(0, 24)],
  };
}

/** Environment variable names of every secret setting (the primary name of each). */
export function secretEnvNames(): string[] {
  return SETTINGS.filter((s) => s.secret).map((s) => s.env[0]!);
}

/** Where each canary was found, as `label in where`. */
export function findLeaks(canaries: readonly Canary[], where: string, text: string): string[] {
  const found: string[] = [];
  for (const c of canaries) {
    for (const form of [c.value, ...c.forms]) {
      if (form.length >= 8 && text.includes(form)) {
        found.push(`${c.label} (${form === c.value ? "value" : "encoded or partial"}) in ${where}`);
        break;
      }
    }
  }
  return found;
}
