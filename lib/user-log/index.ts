// The user job event log: HTCondor's text format (format.ts, parse.ts), a JSON-lines form (jsonl.ts), and file
// helpers (file.ts). See events.ts for the event types.
export * from './events.js';
export * from './format.js';
export * from './parse.js';
export * from './jsonl.js';
export * from './file.js';
export * from './usage.js';
