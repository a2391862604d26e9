/**
 * "Did you mean": the closest of a few known names to a mistyped one, for the `codeforge`
 * command (commands, flags) and the API's 400 for an unknown field.
 * @module
 */
import { distance } from "fastest-levenshtein";

/**
 * The candidate nearest to `word` by edit distance, when near enough to be a typo: at most a
 * third of the word's length (at least one edit, at most three). Null when nothing is.
 */
export function closestName(word: string, candidates: Iterable<string>): string | null {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : null;
}

/** `; did you mean "status"?`, or "" when no candidate is near. */
export function didYouMean(word: string, candidates: Iterable<string>, quote = (s: string) => JSON.stringify(s)): string {
  const near = closestName(word, candidates);
  return near === null ? "" : `; did you mean ${quote(near)}?`;
}
