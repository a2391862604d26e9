/**
 * Splits a CLI's output bytes into complete, decoded lines.
 *
 * CLI output arrives in arbitrary pieces: a read may end mid-line or inside a multi-byte
 * character. Lines are split on the newline byte (which never occurs inside a UTF-8 sequence)
 * and only complete lines are decoded, so both cases come out right. The partial line is
 * bounded: a line longer than `lineMaxBytes` is dropped up to its newline rather than buffered
 * without limit (the raw output is streamed separately, so nothing is lost to the user).
 * @module
 */

/** Long enough for big tool results (file contents), bounded so one runaway line cannot hog memory. */
export const LINE_MAX_BYTES_DEFAULT = 4 * 1_048_576;

export interface LineSplitter {
  /** Feeds bytes; returns the lines they complete, without their newlines. */
  push(chunk: Uint8Array): string[];
  /** Ends the stream; returns a last line that had no newline, if any. */
  end(): string | null;
}

/**
 * @example
 * const lines = createLineSplitter();
 * for (const line of lines.push(chunk)) handle(line);
 */
export function createLineSplitter(options: { lineMaxBytes?: number } = {}): LineSplitter {
  const lineMaxBytes = options.lineMaxBytes ?? LINE_MAX_BYTES_DEFAULT;
  const decoder = new TextDecoder();
  let partial: Uint8Array[] = [];
  let partialBytes = 0;
  let discarding = false;

  function takeLine(tail: Uint8Array): string | null {
    if (discarding) {
      discarding = false;
      return null;
    }
    const bytes = partial.length === 0 ? tail : concat([...partial, tail], partialBytes + tail.length);
    partial = [];
    partialBytes = 0;
    return decoder.decode(bytes);
  }

  return {
    push(chunk) {
      const lines: string[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        const line = takeLine(chunk.subarray(start, nl));
        if (line !== null) lines.push(line);
        start = nl + 1;
      }
      if (start < chunk.length && !discarding) {
        const rest = chunk.subarray(start);
        if (partialBytes + rest.length > lineMaxBytes) {
          partial = [];
          partialBytes = 0;
          discarding = true;
        } else {
          // Copy: the caller may reuse its buffer.
          partial.push(rest.slice());
          partialBytes += rest.length;
        }
      }
      return lines;
    },
    end() {
      const line = takeLine(new Uint8Array(0));
      return line ? line : null;
    },
  };
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
