// Mail about jobs, as HTCondor's `notification`/`notify_user` and PBS's `-m abe -M addr` ask: one message per
// event, sent through the MAIL command (`MAIL -s SUBJECT ADDRESS`, the body on stdin), never blocking the queue.
import { spawn } from 'node:child_process';
import { DschedError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { visible } from '../../lib/visible-text.js';
import { CLEAN_EXEC_PATH, cleanExecArgs } from './clean-exec.js';
import { isExpressionText, litValue } from './queue.js';

export type MailEvent = 'begin' | 'end' | 'abort' | 'held';

export interface JobFacts {
  id: string;
  owner: string;
  cmd: string;
  host: string;
  notification: number; // HTCondor JobNotification: 0 never, 1 always, 2 complete, 3 error
  mailPoints?: string; // PBS -m letters (a b e n)
  notifyUser?: string;
  exitCode?: number;
  signal?: number;
  removeReason?: string;
  holdReason?: string;
  runSeconds?: number;
}

/** Whether this event is one the job asked to be told about. */
export function wantsMail(ev: MailEvent, f: JobFacts): boolean {
  if (f.mailPoints !== undefined) {
    if (f.mailPoints.includes('n')) return false;
    return (
      (ev === 'begin' && f.mailPoints.includes('b')) ||
      (ev === 'end' && f.mailPoints.includes('e')) ||
      (ev === 'abort' && f.mailPoints.includes('a'))
    );
  }
  const failed = f.signal !== undefined || (f.exitCode !== undefined && f.exitCode !== 0);
  switch (f.notification) {
    case 1:
      return ev !== 'begin';
    case 2:
      return ev === 'end';
    case 3:
      // as HTCondor's Error: a failed end, or a hold the job's failure (not its owner) brought about
      return (ev === 'end' && failed) || ev === 'held';
    default:
      return false;
  }
}

const dur = (s: number) =>
  `${Math.floor(s / 86400)}+${String(Math.floor(s / 3600) % 24).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;

export function mailText(ev: MailEvent, f: JobFacts): { subject: string; body: string } {
  const outcome =
    ev === 'begin'
      ? 'started'
      : ev === 'abort'
        ? 'was removed'
        : ev === 'held'
          ? 'was held'
          : f.signal !== undefined
            ? `was killed by signal ${f.signal}`
            : `exited with status ${f.exitCode ?? 0}`;
  const subject = `[dsched] job ${f.id} ${outcome}`;
  // what a user wrote stays on its line: a line of their own could start with `~!`, which mail programs of the
  // mailx family run as a shell command (as root, who sends the mail) even when their input is no terminal
  const lines = [`Job ${f.id} (${visible(f.cmd)}) of ${visible(f.owner)} ${outcome}.`, ''];
  if (f.host) lines.push(`Host:     ${visible(f.host)}`);
  if (ev === 'end') lines.push(f.signal !== undefined ? `Signal:   ${f.signal}` : `Exit code: ${f.exitCode ?? 0}`);
  if (f.runSeconds !== undefined && ev !== 'begin') lines.push(`Run time: ${dur(Math.round(f.runSeconds))}`);
  if (ev === 'abort' && f.removeReason) lines.push(`Reason:   ${visible(f.removeReason)}`);
  if (ev === 'held' && f.holdReason) lines.push(`Reason:   ${visible(f.holdReason)}`);
  return { subject, body: lines.join('\n') + '\n' };
}

// One address, user or user@host, as notify_user and PBS's -M take them (a comma-separated list of these). The
// address is an argument of the MAIL command, run as root: one that starts with '-' would be read as an option
// (GNU mail's --exec runs commands), and mail programs deliver to a recipient that starts with '/' or '|' by
// writing that file or running that command.
const ADDRESS = /^[A-Za-z0-9_+=.%][A-Za-z0-9_+=.%-]*(@[A-Za-z0-9][A-Za-z0-9.-]*)?$/;

/** Why `to` may not be handed to the MAIL command as its recipient, or undefined when it may. */
export function mailAddressProblem(to: string): string | undefined {
  const bad = to.split(',').find((a) => !ADDRESS.test(a.trim()));
  return bad === undefined
    ? undefined
    : `'${bad.trim()}' is not a mail address (user or user@host, letters, digits and _+=.%- only, not starting with '-')`;
}

/** Refuse an attribute `name = text` that is a NotifyUser (any spelling) naming what is no mail address. */
export function checkNotifyUser(name: string, text: string, code: 'SUBMIT_INVALID' | 'USAGE'): void {
  if (name.toLowerCase() !== 'notifyuser') return;
  const v = litValue(text);
  // the address the mail goes to is the value in the job's ad: an expression's would pass unchecked
  const problem =
    typeof v === 'string'
      ? mailAddressProblem(v)
      : isExpressionText(text)
        ? 'give the mail address as a string, not an expression'
        : undefined;
  if (problem) throw new DschedError(code, `${name}: ${problem}`, { hint: 'notify_user = you@example.org' });
}

export class Mailer {
  constructor(
    private mailCommand: () => string,
    private log: Logger,
  ) {}

  send(ev: MailEvent, f: JobFacts): void {
    if (!wantsMail(ev, f)) return;
    const to = f.notifyUser || f.owner;
    const cmd = this.mailCommand();
    if (!cmd || !to) return;
    const problem = mailAddressProblem(to);
    if (problem) {
      this.log.warn({ job: f.id, owner: f.owner, problem }, 'job mail not sent');
      return;
    }
    const { subject, body } = mailText(ev, f);
    try {
      // through the clean exec helper (a shell finds a MAIL given by name): no key or descriptor the schedd
      // was started with reaches the command, nor one put in its keyring by the command before it
      const argv = ['/bin/sh', '-c', 'exec "$0" "$@"', cmd, '-s', subject, to];
      const child = spawn(CLEAN_EXEC_PATH, cleanExecArgs(argv), { stdio: ['pipe', 'ignore', 'ignore'] });
      child.on('error', (e) => this.log.warn({ mail: cmd, err: e.message }, 'cannot send job mail'));
      child.on('exit', (code) => {
        if (code) this.log.warn({ mail: cmd, exitCode: code }, 'the mail command failed');
      });
      child.stdin!.on('error', () => {});
      child.stdin!.end(body);
    } catch (e) {
      this.log.warn({ mail: cmd, err: (e as Error).message }, 'cannot send job mail');
    }
  }
}
