#!/usr/bin/env node
// dhold: hold jobs (condor_hold).
import { actCommand } from './shared/act.js';
import { runCli } from './shared/run-cli.js';

runCli('dhold', (argv) => actCommand('dhold', 'hold', argv));
