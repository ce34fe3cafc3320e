/** An error the user can act on (bad checkpoint, missing file, shape mismatch): printed without a stack trace. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}
