/**
 * The shape of one benchmark run's results, shared by the report and its notes.
 * @module
 */
import type { LoadResult } from "./http.ts";
import type { Machine } from "./machine.ts";
import type { ListingBytes } from "./sizes.ts";
import type { PairedLatency, RssRun, SecondsApart } from "./stdio.ts";
import type { ProbeStep, StartupResults } from "./startup.ts";

/** Calls per second of one HTTP run. */
export type Rate = { calls: number; perSecond: number; errors: number; firstError?: string };

/** Everything one run measured. */
export interface BenchResults {
  machine: Machine;
  quick: boolean;
  seconds: number;
  toolsList: { defaults: { bytes: number; tools: number }; everything: { bytes: number; tools: number } };
  small: { guestInfo: PairedLatency; guestInfo5ms: PairedLatency };
  large: {
    guestInfo: PairedLatency;
    list: PairedLatency;
    list5ms: PairedLatency;
    upstreamRequests: number;
    full: ListingBytes;
    page: ListingBytes;
    apart: SecondsApart;
    paging: { pages: number; listings: number };
  };
  rss: RssRun;
  /** RSS of an idle `deno eval` process, for scale. */
  denoIdleKiB: number;
  /** V8 old-space cap of the measured servers, when set. */
  heapCapMiB?: number | undefined;
  startup: StartupResults & { flags: string; probe: ProbeStep[]; bundleBytes?: number };
  http: { mcp: Rate; bare: Rate; ratio: number } | { pending: string } | undefined;
  load: LoadResult | { pending: string } | undefined;
}
