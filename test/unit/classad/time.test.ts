// Absolute and relative times: absTime()/relTime() literals and conversions, their arithmetic, comparisons and
// printing, and the functions that take them apart (fnCall.cpp, operators.cpp doTimeArithmetic, util.cpp).
import { describe } from 'node:test';
import { caseTests, type Case } from './helpers.js';

// Every zone-dependent case below assumes UTC, as the other time cases do.
process.env.TZ = 'UTC';

const LITERALS_AND_PRINTING: Case[] = [
  // HTCondor prints a zero offset with a minus sign
  ['absTime("2020-01-01T00:00:00+00:00")', 'absTime("2020-01-01T00:00:00-00:00")'],
  ['absTime("2020-01-01T00:00:00Z")', 'absTime("2020-01-01T00:00:00-00:00")'],
  ['absTime("2020-01-01T01:30:00+01:00")', 'absTime("2020-01-01T01:30:00+01:00")'],
  ['absTime("2020-01-01T01:30:00-0530")', 'absTime("2020-01-01T01:30:00-05:30")'],
  ['absTime("2020-01-01 12:00")', 'absTime("2020-01-01T12:00:00-00:00")'],
  ['absTime("2020")', 'absTime("2019-12-31T00:00:00-00:00")'], // day 0 of January, as mktime reads it
  ['absTime("junk")', 'error'],
  ['absTime(0)', 'absTime("1970-01-01T00:00:00-00:00")'],
  ['absTime(0, 3600)', 'absTime("1970-01-01T01:00:00+01:00")'],
  ['absTime(86400.9)', 'absTime("1970-01-02T00:00:00-00:00")'],
  ['absTime(relTime(5), 0)', 'absTime("1970-01-01T00:00:05-00:00")'],
  ['absTime(strcat("2020-01-01", "T00:00:00Z"))', 'absTime("2020-01-01T00:00:00-00:00")'],
  ['absTime(true)', 'error'],
  ['absTime(undefined)', 'undefined'],
  ['absTime(0, "x")', 'error'],
  ['isAbsTime(absTime())', 'true'],
  ['relTime(90061)', 'relTime("1+01:01:01")'],
  ['relTime("1+01:01:01")', 'relTime("1+01:01:01")'],
  ['relTime("2h30m")', 'relTime("02:30:00")'],
  ['relTime("1d 2h 3m 4s")', 'relTime("1+02:03:04")'],
  ['relTime("-90s")', 'relTime("-01:30")'],
  ['relTime(3661)', 'relTime("01:01:01")'],
  ['relTime(60)', 'relTime("01:00")'],
  ['relTime(5)', 'relTime("05")'],
  ['relTime(0)', 'relTime("00")'],
  ['relTime(-5)', 'relTime("-05")'],
  ['relTime(1.5)', 'relTime("1.5")'],
  ['relTime(absTime(9))', 'relTime("09")'],
  ['relTime("junk")', 'error'],
  ['relTime(1, 2)', 'error'],
  ['relTime()', 'error'],
  ['isAbsTime(absTime(0))', 'true'],
  ['isAbsTime(0)', 'false'],
  ['isRelTime(relTime(1))', 'true'],
  ['isRelTime(1)', 'false'],
];

const ARITHMETIC_AND_COMPARISON: Case[] = [
  ['absTime("2020-02-01T00:00:00Z") - absTime("2020-01-01T00:00:00Z")', 'relTime("31+00:00:00")'],
  ['absTime("2020-01-01T00:00:00Z") + relTime(90061)', 'absTime("2020-01-02T01:01:01-00:00")'],
  ['relTime(60) + absTime(0, 3600)', 'absTime("1970-01-01T01:01:00+01:00")'],
  ['absTime(100) - relTime(40.9)', 'absTime("1970-01-01T00:01:00-00:00")'],
  ['relTime(5) + relTime(1.5)', 'relTime("6.5")'],
  ['relTime(5) * 2', 'relTime("10")'],
  ['2 * relTime(5)', 'relTime("10")'],
  ['relTime(5) / 2', 'relTime("2.5")'],
  ['relTime(5) * 1.5', 'relTime("7.5")'],
  ['2.0 * relTime(5)', 'relTime("00")'], // HTCondor reads real * reltime the wrong way round
  ['relTime(5) + 1', 'error'],
  ['absTime(0) + 1', 'error'],
  ['absTime(0) + absTime(0)', 'error'],
  ['relTime(5) % 2', 'error'],
  ['relTime(5) * true', 'error'],
  ['relTime(5) + undefined', 'undefined'],
  ['-relTime(5)', 'relTime("-05")'],
  ['+relTime(5)', 'relTime("05")'],
  ['-absTime(0)', 'error'],
  ['absTime(0) < absTime(1)', 'true'],
  ['absTime("2020-01-01T01:30:00+0100") == absTime("2020-01-01T00:30:00Z")', 'true'],
  ['absTime("2020-01-01T01:30:00+0100") =?= absTime("2020-01-01T00:30:00Z")', 'false'],
  ['absTime(0) == 0', 'error'],
  ['absTime(0) == "x"', 'error'],
  ['absTime(0) == relTime(0)', 'error'],
  ['relTime(5) > relTime(3)', 'true'],
  ['relTime(5) == 5', 'error'],
  ['relTime(5) =?= relTime(5)', 'true'],
  ['relTime(5) =?= 5', 'false'],
  ['member(relTime(5), {relTime(4), relTime(5)})', 'true'],
  ['ifThenElse(relTime(1), 1, 2)', 'error'],
  ['relTime(1) ? 1 : 2', 'error'],
  ['relTime(1) && true', 'error'],
];

const CONVERSIONS: Case[] = [
  ['string(absTime(0))', '"1970-01-01T00:00:00-00:00"'],
  ['string(relTime(90061.5))', '"1+01:01:01"'], // whole seconds, as HTCondor converts
  ['strcat("t=", relTime(65))', '"t=01:05"'],
  ['int(absTime(7))', '7'],
  ['int(relTime(7.9))', '7'],
  ['real(relTime(1.5))', '1.5'],
  ['real(absTime(7))', '7.0'],
  ['bool(relTime(0))', 'false'],
  ['bool(relTime(2))', 'true'],
  ['bool(absTime(0))', 'error'],
];

const SPLIT_AND_FORMAT: Case[] = [
  [
    'splitTime(absTime("2020-03-04T05:06:07+01:00"))',
    '[ Type = "AbsoluteTime"; Year = 2020; Month = 3; Day = 4; Hours = 5; Minutes = 6; Seconds = 7; Offset = 3600 ]',
  ],
  ['splitTime(relTime(90061))', '[ Type = "RelativeTime"; Days = 1; Hours = 1; Minutes = 1; Seconds = 1.0 ]'],
  ['splitTime(relTime(-90061))', '[ Type = "RelativeTime"; Days = -1; Hours = 1; Minutes = 1; Seconds = 1.0 ]'],
  ['splitTime(relTime(-5))', '[ Type = "RelativeTime"; Days = 0; Hours = 0; Minutes = 0; Seconds = -5.0 ]'],
  [
    'splitTime(86400)',
    '[ Type = "AbsoluteTime"; Year = 1970; Month = 1; Day = 2; Hours = 0; Minutes = 0; Seconds = 0; Offset = 0 ]',
  ],
  ['splitTime(0).Year', '1970'],
  ['splitTime("x")', 'error'],
  ['splitTime([ Year = 1 ])', 'error'],
  ['splitTime(undefined)', 'undefined'],
  ['formatTime(relTime(5))', 'error'],
  ['formatTime(absTime("2020-03-04T05:06:07+01:00"), "%Y-%m-%d %H:%M:%S")', '"2020-03-04 05:06:07"'],
  ['formatTime(absTime("2020-03-04T05:06:07+01:00"), "%z")', '"+0000"'], // the fields carry no zone
  ['formatTime([ Year = 2021; Month = 2; Day = 3 ], "%F %A %j")', '"2021-02-03 Wednesday 034"'],
  ['formatTime(0, 5)', 'error'],
  ['formatTime(0, "%Y", 1)', 'error'],
  ['getYear(absTime(0))', '1970'],
  ['getMonth(absTime("2020-03-04T05:06:07Z"))', '3'],
  ['getDayOfYear(absTime("2020-02-01T00:00:00Z"))', '31'],
  ['getDayOfWeek(absTime(0))', '4'],
  ['getDays(relTime(90061))', '1'],
  ['getHours(relTime(90061))', '1'],
  ['getSeconds(relTime(90061))', '1'],
  ['getDays(absTime(0))', 'error'],
  ['getYear(relTime(5))', 'error'],
  ['getYear(0)', 'error'],
  ['isAbsTime(currentTime())', 'true'],
  ['isRelTime(timeZoneOffset())', 'true'],
  ['timeZoneOffset()', 'relTime("00")'],
  ['isRelTime(dayTime())', 'true'],
  ['interval(90061)', '"1+01:01:01"'],
];

describe('classad time – literals and printing', () => caseTests(LITERALS_AND_PRINTING));
describe('classad time – arithmetic and comparison', () => caseTests(ARITHMETIC_AND_COMPARISON));
describe('classad time – conversions', () => caseTests(CONVERSIONS));
describe('classad time – splitTime, formatTime and the get* functions', () => caseTests(SPLIT_AND_FORMAT));
