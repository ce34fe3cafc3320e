/** Minimal glob matching for `finetune.configGlobs`: `**`, `*`, `?`, `{a,b}`; `/` separated paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let inBraces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more folders; a trailing `**` matches anything.
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      inBraces++;
      re += '(?:';
    } else if (c === '}' && inBraces > 0) {
      inBraces--;
      re += ')';
    } else if (c === ',' && inBraces > 0) re += '|';
    else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  while (inBraces-- > 0) re += ')';
  return new RegExp(`^${re}$`);
}

/** Whether `path` (absolute, `/` separated) matches a glob given absolute or relative to one of `roots`. */
export function matchesAnyGlob(path: string, globs: readonly string[], roots: readonly string[]): boolean {
  const p = path.replace(/\\/g, '/');
  for (const g of globs) {
    const glob = g.replace(/\\/g, '/');
    const re = globToRegExp(glob);
    if (re.test(p)) return true;
    if (!glob.startsWith('/')) {
      for (const root of roots) {
        const r = root.replace(/\\/g, '/').replace(/\/$/, '');
        if (p.startsWith(r + '/') && re.test(p.slice(r.length + 1))) return true;
      }
      if (!glob.includes('/') && re.test(p.slice(p.lastIndexOf('/') + 1))) return true;
    }
  }
  return false;
}
