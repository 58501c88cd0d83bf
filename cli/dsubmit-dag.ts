#!/usr/bin/env node
// dsubmit-dag: not built yet (see issue 4).
import { DschedError } from '../lib/errors.js';
import { runCli } from './shared/run-cli.js';

runCli('dsubmit-dag', async () => {
  throw new DschedError('NOT_IMPLEMENTED', 'dsubmit-dag is not available yet in this version of dsched');
});
