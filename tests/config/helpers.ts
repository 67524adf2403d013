/**
 * Test helpers: an in-memory file system for the loader.
 * @module
 */

/** Files by absolute path, with optional modes. */
export interface MemFile {
  text: string;
  mode?: number | null;
}

/** Loader options reading from an in-memory map of files. */
export function memFs(files: Record<string, string | MemFile>) {
  const get = (path: string): MemFile | undefined => {
    const f = files[path];
    return typeof f === "string" ? { text: f, mode: 0o100600 } : f;
  };
  return {
    readFile: (path: string): Promise<string> => {
      const f = get(path);
      return f === undefined ? Promise.reject(new Deno.errors.NotFound(`no ${path}`)) : Promise.resolve(f.text);
    },
    fileMode: (path: string): Promise<number | null | undefined> => Promise.resolve(get(path)?.mode),
  };
}

/** Minimal valid environment for one cluster. */
export const BASE_ENV: Readonly<Record<string, string>> = {
  PROXMOX_HOST: "pve.example.com",
  PROXMOX_TOKEN_ID: "root@pam!mcp",
  PROXMOX_TOKEN_SECRET: "11111111-2222-3333-4444-555555555555",
};
