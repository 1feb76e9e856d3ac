// Post-tool mask (docs/algorithm.md §4.1 and §8.5).
import { describe, expect, it } from 'vitest';
import { postToolMask } from '../../../src/core/tao/postToolMask';
import type { TokenKind } from '../../../src/core/tao/types';

// P prompt, p policy, T tool; index: 0 P, 1 P, 2 p, 3 p, 4 T, 5 T, 6 p, 7 p, 8 p, 9 T, 10 p, 11 p
const kinds: Record<string, TokenKind> = { P: 'prompt', p: 'policy', T: 'tool' };
const tokens = [...'PPppTTpppTpp'].map((c) => ({ kind: kinds[c] }));
const successThenFailure = [{ ok: true }, { ok: false }];

describe('postToolMask', () => {
  it('marks the whole turn after each tool result', () => {
    // turn after run 1: tokens 6, 7, 8; after run 2: 10, 11
    expect(postToolMask(tokens, successThenFailure, null, false)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1]);
  });

  it('with window k marks only the first k policy tokens of each turn', () => {
    expect(postToolMask(tokens, successThenFailure, 2, false)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
    expect(postToolMask(tokens, successThenFailure, 1, false)).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0]);
    expect(postToolMask(tokens, successThenFailure, 0, false)).toEqual(new Array(12).fill(0));
  });

  it('with success-only marks only turns after a successful call', () => {
    // run i is the result of call i: run 1 ok -> 6, 7, 8; run 2 failed -> nothing
    expect(postToolMask(tokens, successThenFailure, null, true)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
    expect(postToolMask(tokens, [{ ok: false }, { ok: true }], null, true)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    // window and success-only combine: first 2 of the successful turn
    expect(postToolMask(tokens, successThenFailure, 2, true)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0]);
  });

  it('marks nothing without tool results', () => {
    const plain = [...'PPppp'].map((c) => ({ kind: kinds[c] }));
    expect(postToolMask(plain, [], null, false)).toEqual([0, 0, 0, 0, 0]);
  });
});
