#!/usr/bin/env node
// drelease: release jobs (condor_release).
import { actCommand } from './shared/act.js';
import { runCli } from './shared/run-cli.js';

runCli('drelease', (argv) => actCommand('drelease', 'release', argv));
