/**
 * Finds a key that appears twice in one JSON object. `JSON.parse` keeps the last of them
 * silently, so `{"prompt":"a","prompt":"b"}` would mean whatever the last parser in a chain
 * decides; the edge refuses such a body instead.
 * @module
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

interface Frame {
  /** Keys seen so far (objects), null for arrays. */
  keys: Set<string> | null;
  /** Objects: the next string is a key. Arrays: unused. */
  expectKey: boolean;
  /** Where this container sits: its key in the parent object, or its index in the parent array. */
  label: string;
  /** Arrays: index of the current element. */
  index: number;
}

/**
 * The dotted path of the first duplicated key in `text` (e.g. `repo.url`, `events.3.type`),
 * or null when every object's keys are distinct. `text` must already be valid JSON (parse it
 * first): the scan trusts its structure and only looks at brackets, commas and strings.
 */
export function duplicateKeyPath(text: string): string | null {
  const stack: Frame[] = [];
  let pendingLabel = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; ; i++) {
        const c = text.charCodeAt(i);
        if (c === BACKSLASH) {
          escaped = true;
          i++;
        } else if (c === QUOTE) break;
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        if (top.keys.has(key)) return pathOf(stack, key);
        top.keys.add(key);
        top.expectKey = false;
        pendingLabel = key;
      }
      continue;
    }
    switch (code) {
      case 0x7b: // {
      case 0x5b: {
        // [
        const parent = stack[stack.length - 1];
        const label = parent === undefined ? "" : parent.keys ? pendingLabel : String(parent.index);
        stack.push({ keys: code === 0x7b ? new Set() : null, expectKey: true, label, index: 0 });
        break;
      }
      case 0x7d: // }
      case 0x5d: // ]
        stack.pop();
        break;
      case 0x2c: {
        // ,
        const top = stack[stack.length - 1]!;
        if (top.keys) top.expectKey = true;
        else top.index++;
        break;
      }
    }
  }
  return null;
}

function pathOf(stack: Frame[], key: string): string {
  return [...stack.slice(1).map((frame) => frame.label), key].join(".");
}
