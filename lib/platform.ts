// This machine's Arch and OpSys as HTCondor spells them: the startd advertises them in its slot ads and
// condor_submit's default Requirements ask for the submitting machine's, so both sides must use this one
// mapping or a default job matches no slot.
import os from 'node:os';

/** HTCondor's name for an architecture (the Arch machine attribute), from Node's `os.arch()`. */
export function condorArch(arch: string = os.arch(), endianness: 'BE' | 'LE' = os.endianness()): string {
  switch (arch) {
    case 'x64': return 'X86_64';
    case 'ia32': return 'INTEL';
    case 'arm64': return 'AARCH64';
    case 'arm': return 'ARM';
    case 'ppc64': return endianness === 'LE' ? 'PPC64LE' : 'PPC64';
    case 's390x': return 'S390X';
    default: return arch.toUpperCase();
  }
}

/** HTCondor's name for an operating system (the OpSys machine attribute), from Node's `os.platform()`. */
export function condorOpSys(platform: string = os.platform()): string {
  switch (platform) {
    case 'linux': return 'LINUX';
    case 'darwin': return 'OSX';
    case 'win32': return 'WINDOWS';
    case 'freebsd': return 'FREEBSD';
    default: return platform.toUpperCase();
  }
}
