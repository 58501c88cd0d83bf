// A hand-made launcher for the command agent's tests: it speaks the agent's frames (cli/dsched-agent.ts) itself,
// so a test can be a launcher of an older protocol, or one that refuses or holds a spool file.
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Launcher } from './agent.js';

/** A frame as the launcher and the agent exchange them: a 4-byte little-endian length, a type byte, the payload. */
export function agentFrame(type: string, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32LE(payload.length, 0);
  head[4] = type.charCodeAt(0);
  return Buffer.concat([head, payload]);
}

/** Splits frames off a byte stream: feed it data, it calls `each` per whole frame. */
export function frameReader(each: (type: string, payload: Buffer) => void): (d: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32LE(0)) {
      const n = buf.readUInt32LE(0);
      const type = String.fromCharCode(buf[4]!);
      const payload = buf.subarray(5, 5 + n);
      buf = buf.subarray(5 + n);
      each(type, payload);
    }
  };
}

/**
 * `dq args` sent to the agent of `l` by a launcher that says `protocol`: the frame types it got (repeats of one
 * type shown once), the stdout of its O frames and the exit code. `onSpool` is told the name of a spool file
 * offered (F) and answers it (F: opened, N: refused) when it likes, or closes the connection.
 */
export function rawDq(
  l: Launcher,
  protocol: string,
  args: string[],
  onSpool: (name: string, reply: (type: 'F' | 'N') => void, close: () => void) => void = (_n, reply) => reply('N'),
): Promise<{ types: string; stdout: string; code: number }> {
  const [sock] = readdirSync(l.socketDir).filter((f) => f.endsWith('.sock'));
  const env = Object.entries(l.env).map(([k, v]) => `${k}=${v}`);
  const fields = [protocol, 'dq', String(process.geteuid!()), '18', '0', '0', '0', l.pool.work, String(args.length)];
  const hello = Buffer.from([...fields, ...args, String(env.length), ...env].map((f) => `${f}\0`).join(''));
  return new Promise((resolve, reject) => {
    const c = connect(join(l.socketDir, sock!));
    let types = '';
    const out: Buffer[] = [];
    let code = -1;
    c.on('error', reject);
    c.on(
      'data',
      frameReader((type, payload) => {
        if (!types.endsWith(type)) types += type;
        if (type === 'O') out.push(payload);
        if (type === 'X') code = payload.readInt32LE(0);
        // the whole output is read: it says so, as the launcher does once it has copied it
        if (type === 'D') c.write(agentFrame('D'));
        if (type === 'F')
          onSpool(
            payload.toString(),
            (t) => c.write(agentFrame(t)),
            () => c.destroy(),
          );
      }),
    );
    c.on('close', () => resolve({ types, stdout: Buffer.concat(out).toString(), code }));
    c.write(agentFrame('H', hello));
  });
}

/** `count` held jobs submitted through the launcher `l`: their cluster (300 make a dq -json of ~430 KB). */
export async function submitHeld(l: Launcher, count = 300): Promise<string> {
  const s = await l.run('dsubmit', ['-terse', '-'], { input: `executable = /bin/true\nhold = true\nqueue ${count}\n` });
  if (s.code !== 0) throw new Error(`dsubmit failed: ${s.stderr}`);
  return s.stdout.split('.')[0]!;
}
