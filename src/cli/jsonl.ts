// JSON lines with numbers rounded to 6 significant digits: step reports carry every token's
// entropy and advantage, and full float precision would triple their size for no reader's gain.

export function jsonLine(record: object): string {
  return `${JSON.stringify(record, (_key, value) => (typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value))}\n`;
}
