// One deadline for a whole origin request: S3 calls and the transform share it, so a
// slow S3 leaves less time for the transform, and a variant whose estimated cost cannot
// fit what is left is refused at once instead of being cut off by Lambda@Edge's 30 s
// limit (CloudFront would then serve its own 503, possibly cached).

import { HttpError } from './http.mjs';

/** A deadline `budgetMs` from `start` (performance.now() time). */
export function deadlineFrom(start, budgetMs) {
  const at = start + budgetMs;
  return {
    budgetMs,
    remaining: () => Math.max(0, at - performance.now()),
    /** Abort signal for the SDK: fires when the deadline passes. */
    signal: () => AbortSignal.timeout(Math.max(1, Math.round(at - performance.now()))),
  };
}

/**
 * Refuse a transform whose estimated cost (ms, from the core's `estimateCost`) does not
 * fit: over the whole budget it never will (413, the variant is too costly for this
 * function), over what is left it might next time (503, not cached). `reserveMs` is kept
 * for the PUT and the answer.
 */
export function checkTransformFits(costMs, deadline, reserveMs) {
  if (typeof costMs !== 'number' || !Number.isFinite(costMs)) return;
  if (costMs + reserveMs > deadline.budgetMs) {
    throw new HttpError(
      413,
      'limit_exceeded',
      `variant is too costly: estimated ${Math.round(costMs)} ms of work, the function allows ${deadline.budgetMs - reserveMs} ms`,
    );
  }
  const left = deadline.remaining() - reserveMs;
  if (costMs > left) {
    throw new HttpError(
      503,
      'deadline_exceeded',
      `not enough time left for this variant: estimated ${Math.round(costMs)} ms, ${Math.max(0, Math.round(left))} ms left`,
    );
  }
}
