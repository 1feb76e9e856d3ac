// Where a JSON text breaks the grammar, the same in every engine: JSON.parse's messages differ
// between browsers and Node, and V8's often name no position ("Unexpected token 'o', ... is not
// valid JSON"), so an input reader that wants to say "line 4, column 11" finds the place itself.
// Run only after JSON.parse has refused the text: it is slower, and returns only an offset.

/**
 * Where JSON.parse fails on `text`: the offset of the first character that breaks the grammar,
 * text.length when the text ends before its value does, null when it is valid JSON. Iterative,
 * so deep nesting cannot overflow the stack.
 */
export function jsonSyntaxError(text: string): number | null {
  const n = text.length;
  const open: string[] = []; // '{' and '[' not yet closed
  let expect: 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'colon' | 'next' = 'value';
  let i = 0;
  for (;;) {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
    if (i >= n) return expect === 'next' && open.length === 0 ? null : n;
    const c = text[i];
    switch (expect) {
      case 'value':
      case 'valueOrClose': {
        if (c === ']' && expect === 'valueOrClose') {
          open.pop();
          i++;
          expect = 'next';
        } else if (c === '{' || c === '[') {
          open.push(c);
          i++;
          expect = c === '{' ? 'keyOrClose' : 'valueOrClose';
        } else {
          const end = c === '"' ? scanString(text, i) : scanLiteral(text, i);
          if (end < 0) return -end - 1;
          i = end;
          expect = 'next';
        }
        break;
      }
      case 'key':
      case 'keyOrClose': {
        if (c === '}' && expect === 'keyOrClose') {
          open.pop();
          i++;
          expect = 'next';
          break;
        }
        if (c !== '"') return i;
        const end = scanString(text, i);
        if (end < 0) return -end - 1;
        i = end;
        expect = 'colon';
        break;
      }
      case 'colon':
        if (c !== ':') return i;
        i++;
        expect = 'value';
        break;
      case 'next': {
        const top = open[open.length - 1];
        if (top === undefined) return i; // something after the one top-level value
        if (c === ',') {
          i++;
          expect = top === '{' ? 'key' : 'value';
        } else if ((c === '}' && top === '{') || (c === ']' && top === '[')) {
          open.pop();
          i++;
        } else {
          return i;
        }
        break;
      }
    }
  }
}

/** End of the string starting at `start` (a quote), or -(offset + 1) of its first fault. */
function scanString(text: string, start: number): number {
  const n = text.length;
  for (let j = start + 1; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c < 0x20) return -(j + 1);
    if (c !== 0x5c) continue;
    const escape = text[j + 1];
    if (escape === undefined) return -(n + 1);
    if (escape === 'u') {
      for (let k = j + 2; k < j + 6; k++) {
        if (k >= n) return -(n + 1);
        if (!/[0-9a-fA-F]/.test(text[k])) return -(k + 1);
      }
      j += 5;
    } else if ('"\\/bfnrt'.includes(escape)) {
      j += 1;
    } else {
      return -(j + 2);
    }
  }
  return -(n + 1);
}

/** End of the number, true, false or null at `start`, or -(offset + 1) of its first fault. */
function scanLiteral(text: string, start: number): number {
  const n = text.length;
  for (const word of ['true', 'false', 'null']) {
    if (text[start] !== word[0]) continue;
    let k = 0;
    while (k < word.length && start + k < n && text[start + k] === word[k]) k++;
    if (k === word.length) return start + k;
    return -(start + k + 1); // start + k === n: the word was cut short
  }
  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, failing at the first character that cannot follow
  const isDigit = (j: number) => j < n && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39;
  const digitsFrom = (j: number) => {
    if (j >= n) return -(n + 1);
    if (!isDigit(j)) return -(j + 1);
    while (isDigit(j)) j++;
    return j;
  };
  let j = start;
  if (text[j] === '-') j++;
  if (text[j] === '0') {
    j++;
  } else {
    j = digitsFrom(j);
    if (j < 0) return j;
  }
  if (text[j] === '.') {
    j = digitsFrom(j + 1);
    if (j < 0) return j;
  }
  if (text[j] === 'e' || text[j] === 'E') {
    j++;
    if (text[j] === '+' || text[j] === '-') j++;
    j = digitsFrom(j);
  }
  return j;
}

/** A character as a message shows it: quoted, or "line break". */
export function describeCharacter(character: string): string {
  if (character === '\n' || character === '\r') return 'line break';
  return JSON.stringify(character);
}

/** 1-based line and column of `offset` in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}
