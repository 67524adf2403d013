/**
 * The vocabulary every layer shares: modes, classes, toolsets, principals, plans, audit events and the pipeline's
 * hooks. It imports nothing of the project, so any module may import it.
 * @module
 */
export * from "./modes.ts";
export * from "./principal.ts";
export * from "./call.ts";
export * from "./effect.ts";
