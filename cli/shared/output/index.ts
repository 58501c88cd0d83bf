// What users see: HTCondor-style tables, totals, -long, -json/-jsonl, -af and -format. Pure functions; the CLI
// decides colour (`stream.hasColors()`), width (`stream.columns` on a TTY) and the clock.
export * from './time.js';
export * from './columns.js';
export * from './ad.js';
export * from './jobs.js';
export * from './slots.js';
export * from './autoformat.js';
