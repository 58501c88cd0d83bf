// provisioner policy – when hosts are started, drained and stopped, from the pool's ads alone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Policy,
  type Limits,
  type MachineView,
  type Managed,
  type Observation,
} from '../../../daemons/provisioner/policy.js';
import { hostConfigLines } from '../../../daemons/provisioner/provider.js';

const LIMITS: Limits = { min: 0, max: 2, idleTimeout: 60, startTimeout: 300, jobsPerHost: 1 };
const obs = (now: number, idleJobs: number, machines: Record<string, MachineView> = {}, cycles = 0): Observation => ({
  now,
  idleJobs,
  cycles,
  machines: new Map(Object.entries(machines)),
});
const host = (name: string, started = 0, state: Managed['state'] = 'starting'): Managed => ({
  handle: { id: name, host: name, provider: 'test', started },
  state,
});
const busy: MachineView = { freeCpus: 0, children: 1, draining: false };
const idle: MachineView = { freeCpus: 1, children: 0, draining: false };

describe('provisioner policy', () => {
  test('provisioner policy – idle jobs and no slot: start one host per job, up to the maximum', () => {
    const p = new Policy(() => LIMITS);
    assert.deepEqual(p.decide(obs(0, 5), []), [{ kind: 'start', count: 2, reason: '5 idle job(s) match no slot' }]);
    assert.deepEqual(p.decide(obs(0, 1), []), [{ kind: 'start', count: 1, reason: '1 idle job(s) match no slot' }]);
  });

  test('provisioner policy – hosts still starting count against what the jobs need and the maximum', () => {
    const p = new Policy(() => ({ ...LIMITS, max: 4 }));
    const managed = [host('a'), host('b')];
    assert.deepEqual(p.decide(obs(10, 3), managed), [
      { kind: 'start', count: 1, reason: '3 idle job(s) match no slot' },
    ]);
    assert.deepEqual(p.decide(obs(10, 2), managed), []);
  });

  test('provisioner policy – idle jobs beside a free slot wait two negotiation cycles before a host is started', () => {
    const p = new Policy(() => LIMITS);
    const free = { other: idle };
    assert.deepEqual(p.decide(obs(0, 1, free, 10), []), []);
    assert.deepEqual(p.decide(obs(1, 1, free, 11), []), []);
    assert.equal(p.decide(obs(2, 1, free, 12), [])[0]?.kind, 'start', 'two cycles left them idle: they match no slot');
  });

  test('provisioner policy – a host that shows its slot is up; one that never does is stopped after the start timeout', () => {
    const p = new Policy(() => LIMITS);
    const a = host('a', 0);
    const b = host('b', 0);
    const acts = p.decide(obs(400, 0, { a: busy }), [a, b]);
    assert.equal(a.state, 'up');
    assert.deepEqual(acts, [{ kind: 'stop', host: 'b', reason: 'its slot did not show within 300 s' }]);
  });

  test('provisioner policy – an idle host is drained after the timeout, then stopped once nothing runs there', () => {
    const p = new Policy(() => LIMITS);
    const a = host('a', 0, 'up');
    assert.deepEqual(p.decide(obs(100, 0, { a: idle }), [a]), []);
    assert.deepEqual(p.decide(obs(159, 0, { a: idle }), [a]), []);
    assert.deepEqual(p.decide(obs(160, 0, { a: idle }), [a]), [
      { kind: 'drain', host: 'a', reason: 'no claim for 60 s (timeout 60 s)' },
    ]);
    a.state = 'draining';
    assert.deepEqual(p.decide(obs(161, 0, { a: { ...busy, draining: true } }), [a]), [], 'a claim still there: wait');
    assert.deepEqual(p.decide(obs(162, 0, { a: { ...idle, draining: true } }), [a]), [
      { kind: 'stop', host: 'a', reason: 'drained: nothing runs there' },
    ]);
  });

  test('provisioner policy – a claim resets the idle time; the minimum is kept; idle jobs keep hosts', () => {
    const p = new Policy(() => ({ ...LIMITS, min: 1 }));
    const a = host('a', 0, 'up');
    const b = host('b', 0, 'up');
    p.decide(obs(0, 0, { a: idle, b: idle }), [a, b]);
    p.decide(obs(50, 0, { a: idle, b: busy }), [a, b]);
    assert.equal(b.idleSince, undefined);
    assert.deepEqual(p.decide(obs(100, 0, { a: idle, b: idle }), [a, b]), [
      { kind: 'drain', host: 'a', reason: 'no claim for 100 s (timeout 60 s)' },
    ]);
    assert.deepEqual(p.decide(obs(500, 0, { b: idle }), [b]), [], 'the minimum of one host stays');
    const c = new Policy(() => LIMITS);
    const d = host('d', 0, 'up');
    c.decide(obs(0, 0, { d: idle }), [d]);
    assert.deepEqual(c.decide(obs(100, 3, { d: idle }), [d]), [], 'not retired while jobs wait');
  });

  test('provisioner policy – a host whose slot stays away past the start timeout is stopped', () => {
    const p = new Policy(() => LIMITS);
    const a = host('a', 0, 'up');
    p.decide(obs(10, 0, { a: busy }), [a]);
    assert.deepEqual(p.decide(obs(309, 0), [a]), []);
    assert.deepEqual(p.decide(obs(310, 0), [a]), [
      { kind: 'stop', host: 'a', reason: 'its slot has been gone for 300 s' },
    ]);
  });

  test('provisioner policy – below the minimum, hosts are started with no job waiting', () => {
    const p = new Policy(() => ({ ...LIMITS, min: 2 }));
    assert.deepEqual(p.decide(obs(0, 0), []), [{ kind: 'start', count: 2, reason: 'below the minimum of 2 host(s)' }]);
  });

  test('provisioner policy – host config parts: NAME = value, no newline smuggled in', () => {
    assert.deepEqual(hostConfigLines('NUM_CPUS = 1; START = TRUE;;bad part; X=a'), [
      'NUM_CPUS = 1',
      'START = TRUE',
      'X = a',
    ]);
    assert.deepEqual(hostConfigLines('A = 1\nDAEMON_LIST = SCHEDD'), []);
  });
});
