// Character-level vocabulary: single-token specials for the protocol between policy and tool,
// then the characters that prompts, tool calls, tool results and answers use.

export const SPECIALS = {
  pad: '<pad>',
  bos: '<bos>',
  eos: '<eos>',
  callOpen: '<call>',
  callClose: '</call>',
  resultOpen: '<result>',
  resultClose: '</result>',
  answerOpen: '<answer>',
  answerClose: '</answer>',
} as const;

/** Digits and arithmetic symbols; E and R spell the tool's error result "ERR". */
export const CHARACTERS = '0123456789+-*/()=ER';

export const VOCAB: readonly string[] = [...Object.values(SPECIALS), ...CHARACTERS];
export const VOCAB_SIZE = VOCAB.length;

const idOf = new Map(VOCAB.map((symbol, id) => [symbol, id]));

export const PAD = idOf.get(SPECIALS.pad)!;
export const BOS = idOf.get(SPECIALS.bos)!;
export const EOS = idOf.get(SPECIALS.eos)!;
export const CALL_OPEN = idOf.get(SPECIALS.callOpen)!;
export const CALL_CLOSE = idOf.get(SPECIALS.callClose)!;
export const RESULT_OPEN = idOf.get(SPECIALS.resultOpen)!;
export const RESULT_CLOSE = idOf.get(SPECIALS.resultClose)!;
export const ANSWER_OPEN = idOf.get(SPECIALS.answerOpen)!;
export const ANSWER_CLOSE = idOf.get(SPECIALS.answerClose)!;

/**
 * Tokens the policy may sample. Result delimiters, BOS and PAD are forced by the environment,
 * never sampled, so the policy cannot forge a tool result (docs/algorithm.md §1); E and R only
 * ever appear inside tool results.
 */
export const EMITTABLE: readonly boolean[] = VOCAB.map(
  (symbol) =>
    ![SPECIALS.pad, SPECIALS.bos, SPECIALS.resultOpen, SPECIALS.resultClose, 'E', 'R'].includes(
      symbol as never,
    ),
);

export class TokenizerError extends Error {}

/** Text to ids: specials are written as their `<name>` form, everything else one char a token. */
export function encode(text: string): number[] {
  const ids: number[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '<') {
      const end = text.indexOf('>', i);
      const special = end < 0 ? undefined : idOf.get(text.slice(i, end + 1));
      if (special === undefined) {
        throw new TokenizerError(
          `unknown special token at position ${i}: "${text.slice(i, end < 0 ? i + 12 : end + 1)}"`,
        );
      }
      ids.push(special);
      i = end + 1;
      continue;
    }
    const id = idOf.get(text[i]);
    if (id === undefined) {
      throw new TokenizerError(
        `unknown character ${JSON.stringify(text[i])} at position ${i} (allowed: ${CHARACTERS} and the specials ${Object.values(SPECIALS).join(' ')})`,
      );
    }
    ids.push(id);
    i++;
  }
  return ids;
}

export function decode(ids: readonly number[]): string {
  return ids.map(decodeToken).join('');
}

export function decodeToken(id: number): string {
  const symbol = VOCAB[id];
  if (symbol === undefined) throw new TokenizerError(`token id ${id} is outside the vocabulary of ${VOCAB_SIZE}`);
  return symbol;
}

/** True for a character token (digit, operator, letter), false for a special. */
export function isCharacter(id: number): boolean {
  return id >= Object.keys(SPECIALS).length && id < VOCAB_SIZE;
}
