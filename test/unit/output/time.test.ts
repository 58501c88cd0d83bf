process.env.TZ = 'America/Chicago';
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import {
  formatBannerTime,
  formatDate,
  formatDuration,
  formatIso,
  parseDuration,
  toSeconds,
} from '../../../cli/shared/output/time.js';

const T = 1763906700; // 2025-11-23 14:05:00 UTC = 08:05 in Chicago (CST, UTC-6)

describe('output/time – durations as D+HH:MM:SS', () => {
  const cases: [number | undefined, string][] = [
    [0, '0+00:00:00'],
    [65, '0+00:01:05'],
    [3600, '0+01:00:00'],
    [86399, '0+23:59:59'],
    [86400, '1+00:00:00'],
    [14 * 86400 + 17 * 3600 + 40 * 60 + 1, '14+17:40:01'],
    [65.9, '0+00:01:05'],
    [-5, '0+00:00:00'],
    [undefined, '0+00:00:00'],
  ];
  for (const [secs, text] of cases) {
    test(`output/time – ${secs} seconds is ${text}`, () => assert.equal(formatDuration(secs), text));
  }
  test('output/time – a missing duration can show a fallback', () => assert.equal(formatDuration(undefined, ''), ''));
  test('output/time – durations parse back', () => {
    for (const s of [0, 65, 86400, 1234567]) assert.equal(parseDuration(formatDuration(s)), s);
    assert.equal(parseDuration('01:02:03'), 3723);
    assert.equal(parseDuration('nope'), undefined);
  });
});

describe('output/time – dates as condor_q shows them', () => {
  test('output/time – local time, month unpadded, day left-justified', () => {
    assert.equal(formatDate(T), '11/23 08:05');
    assert.equal(formatDate(Date.UTC(2025, 3, 9, 20, 26) / 1000, { utc: true }), '4/9  20:26');
  });
  test('output/time – UTC option', () => assert.equal(formatDate(T, { utc: true }), '11/23 14:05'));
  test('output/time – ISO option, UTC and local with offset', () => {
    assert.equal(formatDate(T, { iso: true, utc: true }), '2025-11-23T14:05:00Z');
    assert.equal(formatDate(T, { iso: true }), '2025-11-23T08:05:00-06:00');
    assert.equal(formatIso(T, true), '2025-11-23T14:05:00Z');
  });
  test('output/time – a missing or zero time is blank (or the fallback)', () => {
    assert.equal(formatDate(undefined), '');
    assert.equal(formatDate(0), '');
    assert.equal(formatDate(0, {}, '???'), '???');
  });
  test('output/time – the schedd banner time', () =>
    assert.equal(formatBannerTime(T, { utc: true }), '11/23/25 14:05:00'));
  test('output/time – toSeconds accepts numbers and numeric strings only', () => {
    assert.equal(toSeconds(5), 5);
    assert.equal(toSeconds('7'), 7);
    assert.equal(toSeconds('x'), undefined);
    assert.equal(toSeconds(null), undefined);
  });
});
