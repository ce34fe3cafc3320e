/**
 * Plain-scalar resolution as OmegaConf sees it: PyYAML's YAML 1.1 resolvers (yes/no/on/off booleans, `~` null)
 * plus OmegaConf's float resolver, which also accepts `3e-4` and `1e5` (plain YAML 1.1 would read those as strings).
 */
import type { ScalarValue } from './tree';

const NULL_RE = /^(?:~|null|Null|NULL|)$/;
const TRUE_RE = /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/;
const FALSE_RE = /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/;
const INT_RE = /^(?:[-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$/;
// OmegaConf's float resolver (omegaconf/_utils.py get_yaml_loader).
const FLOAT_RE =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

function parseInt11(s: string): number {
  const t = s.replace(/_/g, '');
  const sign = t.startsWith('-') ? -1 : 1;
  const u = t.replace(/^[-+]/, '');
  if (u.startsWith('0b')) return sign * parseInt(u.slice(2), 2);
  if (u.startsWith('0x')) return sign * parseInt(u.slice(2), 16);
  if (u.length > 1 && u.startsWith('0')) return sign * parseInt(u.slice(1), 8);
  return sign * parseInt(u, 10);
}

function parseFloat11(s: string): number {
  const t = s.replace(/_/g, '');
  const lower = t.toLowerCase();
  if (lower.endsWith('.inf')) return lower.startsWith('-') ? -Infinity : Infinity;
  if (lower === '.nan') return NaN;
  return Number(t);
}

/** Resolves the text of a plain (unquoted) scalar to its value. */
export function resolvePlainScalar(source: string): ScalarValue {
  if (NULL_RE.test(source)) return null;
  if (TRUE_RE.test(source)) return true;
  if (FALSE_RE.test(source)) return false;
  if (INT_RE.test(source)) return parseInt11(source);
  if (FLOAT_RE.test(source)) return parseFloat11(source);
  return source;
}
