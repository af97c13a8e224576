import { jsonDepthExceeds } from '../../src/lib/json-depth';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('jsonDepthExceeds', () => {
  it('measures object and array nesting', () => {
    expect(jsonDepthExceeds(b('{"a":{"b":[1,[2]]}}'), 4)).toBe(false);
    expect(jsonDepthExceeds(b('{"a":{"b":[1,[2]]}}'), 3)).toBe(true);
    expect(jsonDepthExceeds(b('1'), 0)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeds(b('{"a":"[[[[{{{{"}'), 1)).toBe(false);
    expect(jsonDepthExceeds(b('{"a":"\\"[[[[\\\\"}'), 1)).toBe(false);
    expect(jsonDepthExceeds(b('{"a":"\\\\",  "b":[[1]]}'), 2)).toBe(true);
  });

  it('stops early on a nesting bomb', () => {
    const n = 100_000;
    expect(jsonDepthExceeds(b('{"a":'.repeat(n) + '1' + '}'.repeat(n)), 64)).toBe(true);
    expect(jsonDepthExceeds(b('['.repeat(n)), 64)).toBe(true);
  });
});
