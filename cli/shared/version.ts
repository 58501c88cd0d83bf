// The installed package's version, for every command's --version: read from the package.json above the
// running file (dist/cli/X.js in a build or an install, cli/shared/version.ts under tsx).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface PackageJson {
  name?: string;
  version?: string;
  bin?: Record<string, string>;
}

let cached: PackageJson | undefined;

/** This package's package.json (found above the running file), or {} when it cannot be found. */
export function packageJson(): PackageJson {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        const pkg = JSON.parse(readFileSync(p, 'utf8')) as PackageJson;
        if (pkg.name === 'dsched') return (cached = pkg);
      } catch {
        /* not ours: keep looking */
      }
    }
    dir = dirname(dir);
  }
  return (cached = {});
}

export const packageVersion = () => packageJson().version ?? 'unknown';

/** The commands this package installs (package.json's bin), e.g. dq, dsubmit. */
export const commandNames = () => Object.keys(packageJson().bin ?? {});

/** What `CMD --version` prints. */
export const versionLine = (cmd: string) => `${cmd} (dsched) ${packageVersion()}`;
