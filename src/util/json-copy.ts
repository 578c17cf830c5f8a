/**
 * A deep copy of plain JSON data: a parse of its text is faster than
 * structuredClone for it. undefined stays undefined.
 */
export function jsonCopy<T>(value: T): T {
  return value === undefined ? value : JSON.parse(JSON.stringify(value)) as T;
}
