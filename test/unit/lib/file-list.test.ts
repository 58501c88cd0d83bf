// file lists – transfer_input_files and transfer_output_files are split at the commas (and newlines) outside
// `$$()` references: a `$$([expr])` holds commas of its own (a function's arguments, a string) and is one item
// until the startd fills it in, as HTCondor fills references in before it splits the list.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { fileList } from '../../../lib/transfer.js';

describe('file lists', () => {
  const cases: Array<[string, string[]]> = [
    ['a, b ,c', ['a', 'b', 'c']],
    ['a\nb,,c,', ['a', 'b', 'c']],
    ['in 1.txt , lib/', ['in 1.txt', 'lib/']],
    [
      '$$([ifThenElse(Arch == "X86_64", "x.bin", "y.bin")]), b',
      ['$$([ifThenElse(Arch == "X86_64", "x.bin", "y.bin")])', 'b'],
    ],
    ['pre-$$([strcat("a,", "b)")])-post.txt,c', ['pre-$$([strcat("a,", "b)")])-post.txt', 'c']],
    ['$$(Arch)/in.txt, $$(Name:a,b)', ['$$(Arch)/in.txt', '$$(Name:a,b)']],
    ['a, $$([unterminated, b', ['a', '$$([unterminated, b']],
  ];
  for (const [text, items] of cases)
    test(`file lists – ${JSON.stringify(text)}`, () => assert.deepEqual(fileList(text), items));

  test('file lists – anything but a string is the empty list', () => assert.deepEqual(fileList(undefined), []));
});
