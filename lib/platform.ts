// This machine's Arch and OpSys as HTCondor spells them: the startd advertises them in its slot ads and
// condor_submit's default Requirements ask for the submitting machine's, so both sides must use this one
// mapping or a default job matches no slot.
import os from 'node:os';

/**
 * HTCondor's name for an architecture (the Arch machine attribute), from the kernel's machine name
 * (`uname -m`): the x86 and 32/64-bit PowerPC families get HTCondor's upper-case names, anything else is
 * advertised as uname spells it, as HTCondor's own startd does ("aarch64", "ppc64le", "s390x").
 */
export function condorArch(machine: string = os.machine()): string {
  if (/^i[3-6]86$|^i86pc$/.test(machine)) return 'INTEL';
  switch (machine) {
    case 'x86_64':
    case 'amd64':
      return 'X86_64';
    case 'ia64':
      return 'IA64';
    case 'ppc':
    case 'ppc32':
      return 'PPC';
    case 'ppc64':
      return 'PPC64';
    default:
      return machine;
  }
}

/** HTCondor's name for an operating system (the OpSys machine attribute), from Node's `os.platform()`. */
export function condorOpSys(platform: string = os.platform()): string {
  switch (platform) {
    case 'linux':
      return 'LINUX';
    case 'darwin':
      return 'OSX';
    case 'win32':
      return 'WINDOWS';
    case 'freebsd':
      return 'FREEBSD';
    default:
      return platform.toUpperCase();
  }
}
