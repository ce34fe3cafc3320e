/** A mapping of a loaded config (what YAML gives for `key: {…}`), as opposed to a list or a scalar. */
export function isMap(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
