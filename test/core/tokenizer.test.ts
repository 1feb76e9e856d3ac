// Vocabulary and encode/decode (src/core/tokenizer.ts; docs/calibration.md "Setup of the pilot").
import { describe, expect, it } from 'vitest';
import {
  ANSWER_CLOSE,
  ANSWER_OPEN,
  BOS,
  CALL_CLOSE,
  CALL_OPEN,
  CHARACTERS,
  decode,
  decodeToken,
  EMITTABLE,
  encode,
  EOS,
  isCharacter,
  PAD,
  RESULT_CLOSE,
  RESULT_OPEN,
  SPECIALS,
  TokenizerError,
  VOCAB,
  VOCAB_SIZE,
} from '../../src/core/tokenizer';

/** The thrown error, for asserting its class and message together. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('vocabulary', () => {
  it('has 9 specials and 19 characters, 28 in all', () => {
    // specials: pad bos eos call /call result /result answer /answer = 9
    expect(Object.keys(SPECIALS)).toHaveLength(9);
    // characters: 10 digits + '+-*/()' (6) + '=' (1) + 'E' 'R' (2) = 19
    expect(CHARACTERS).toHaveLength(19);
    expect(VOCAB_SIZE).toBe(28); // 9 + 19
    expect(VOCAB).toHaveLength(28);
    expect(new Set(VOCAB).size).toBe(28); // no symbol twice
  });

  it('gives each special its own id and the characters the ids after them', () => {
    const specialIds = [PAD, BOS, EOS, CALL_OPEN, CALL_CLOSE, RESULT_OPEN, RESULT_CLOSE, ANSWER_OPEN, ANSWER_CLOSE];
    expect(new Set(specialIds).size).toBe(9);
    for (const id of specialIds) expect(isCharacter(id)).toBe(false);
    for (const ch of CHARACTERS) {
      const [id] = encode(ch);
      expect(isCharacter(id)).toBe(true);
    }
    expect(isCharacter(28)).toBe(false); // one past the end
  });

  it('EMITTABLE excludes exactly pad, bos, result open/close, E and R', () => {
    const excluded = VOCAB.filter((_, id) => !EMITTABLE[id]);
    expect(new Set(excluded)).toEqual(new Set(['<pad>', '<bos>', '<result>', '</result>', 'E', 'R']));
    expect(EMITTABLE).toHaveLength(28);
    // 28 - 6 = 22 emittable tokens
    expect(EMITTABLE.filter(Boolean)).toHaveLength(22);
    for (const id of [EOS, CALL_OPEN, CALL_CLOSE, ANSWER_OPEN, ANSWER_CLOSE]) expect(EMITTABLE[id]).toBe(true);
  });
});

describe('encode / decode', () => {
  const transcripts = [
    '<bos>(47*86)-19=<call>47*86</call><result>4042</result><call>4042-19</call><result>4023</result><answer>4023</answer><eos>',
    '<bos>3+4=<call>3+</call><result>ERR</result><answer>8</answer><eos><pad><pad>',
    '<bos>12*34=<answer>408</answer><eos>',
    '0123456789+-*/()=ER',
    '',
  ];

  it('round-trips transcripts that use every special and every character', () => {
    const used = new Set<number>();
    for (const text of transcripts) {
      const ids = encode(text);
      ids.forEach((id) => used.add(id));
      expect(decode(ids)).toBe(text);
    }
    expect(used.size).toBe(VOCAB_SIZE); // the samples above cover the whole vocabulary
  });

  it('makes one token of each special and one of each character', () => {
    // <bos> 3 + 4 = <call> 3 + </call> : 9 tokens
    expect(encode('<bos>3+4=<call>3+</call>')).toEqual([BOS, ...encode('3+4='), CALL_OPEN, ...encode('3+'), CALL_CLOSE]);
    expect(encode('<bos>3+4=<call>3+</call>')).toHaveLength(9);
    expect(decodeToken(RESULT_OPEN)).toBe('<result>');
  });

  it('rejects an unknown character with its position and the character', () => {
    const error = thrown(() => encode('12x4'));
    expect(error).toBeInstanceOf(TokenizerError);
    expect(error.message).toContain('"x"');
    expect(error.message).toContain('position 2'); // '1' 0, '2' 1, 'x' 2
    const lower = thrown(() => encode('<answer>e</answer>'));
    expect(lower).toBeInstanceOf(TokenizerError);
    expect(lower.message).toContain('"e"');
    expect(lower.message).toContain('position 8'); // '<answer>' is 8 characters: 0..7
  });

  it('rejects an unknown special with its position and its text', () => {
    const error = thrown(() => encode('1+<tool>2'));
    expect(error).toBeInstanceOf(TokenizerError);
    expect(error.message).toContain('<tool>');
    expect(error.message).toContain('position 2');
    const unterminated = thrown(() => encode('<answer>5<eos'));
    expect(unterminated).toBeInstanceOf(TokenizerError);
    expect(unterminated.message).toContain('<eos');
    expect(unterminated.message).toContain('position 9'); // '<answer>' 0..7, '5' 8, '<' 9
  });

  it('rejects ids outside the vocabulary when decoding', () => {
    expect(() => decode([28])).toThrow(TokenizerError);
    expect(() => decode([-1])).toThrow(TokenizerError);
  });
});
