// Shared helpers for the submit-language tests: a scratch submit directory and a submit call.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  expandSubmit,
  loadSubmit,
  type JobSet,
  type SubmitInput,
  type SubmitWarning,
} from '../../../grammar/submit/index.js';

export const FIXTURES = join(dirname(new URL(import.meta.url).pathname), '..', '..', 'fixtures', 'submit');

export interface Scratch {
  dir: string;
  write(name: string, content: string, mode?: number): string;
  cleanup(): void;
}

export function scratch(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'dsched-submit-test-'));
  return {
    dir,
    write(name, content, mode) {
      const p = join(dir, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
      if (mode !== undefined) chmodSync(p, mode);
      return p;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const ENV = {
  HOME: '/home/alice',
  PATH: '/usr/bin:/bin',
  USER: 'alice',
  MYVAR1: 'from-env',
  SHELL: '/bin/bash',
};

export function input(dir: string, text: string, extra: Partial<SubmitInput> = {}): SubmitInput {
  return { file: 'job.sub', text, cwd: dir, env: ENV, owner: 'alice', hostname: 'submit.example.org', ...extra };
}

export interface Result {
  jobs: JobSet;
  warnings: SubmitWarning[];
  /** cluster attributes merged with proc i's */
  ad(i: number): Record<string, string>;
}

export function run(dir: string, text: string, extra: Partial<SubmitInput> = {}, clusterId = 77): Result {
  const plan = loadSubmit(input(dir, text, extra));
  const { jobs, warnings } = expandSubmit(plan, clusterId);
  return { jobs, warnings, ad: (i) => ({ ...jobs.cluster, ...jobs.procs[i] }) };
}

/** A ClassAd string literal's value (the tests compare JS strings). */
export function str(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const m = /^"((?:[^"\\]|\\.)*)"$/.exec(text);
  if (!m) throw new Error(`not a string literal: ${text}`);
  return m[1]!.replace(/\\(.)/g, (_a, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}
