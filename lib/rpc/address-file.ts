// Address files: each daemon writes `host:port` to $DSCHED_HOME/run/<daemon>.address once it serves.
// Written atomically (temp + fsync + rename) so readers never see half a line.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/load.js';
import { addressFile } from '../config/paths.js';

export function writeFileAtomic(file: string, text: string, mode = 0o644): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function writeAddressFile(file: string, address: string): void {
  writeFileAtomic(file, `${address}\n${process.pid}\n`);
}

export function readAddressFile(file: string): { address: string; pid: number } | undefined {
  try {
    const [address, pid] = readFileSync(file, 'utf8').split('\n');
    if (!address) return undefined;
    return { address: address.trim(), pid: Number(pid) };
  } catch {
    return undefined;
  }
}

export function removeAddressFile(file: string): void {
  rmSync(file, { force: true });
}

/** The collector's address: COLLECTOR_HOST, else this home's collector address file. Re-read on each call
 *  so a restarted collector is found again. */
export function collectorAddress(config: Config): string | undefined {
  const configured = config.str('COLLECTOR_HOST');
  if (configured) return configured;
  return readAddressFile(addressFile(config.paths, 'collector'))?.address;
}
