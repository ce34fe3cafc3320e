import { join, resolve } from 'node:path';

export const FIXTURES = resolve(__dirname, '..', '..', 'fixtures', 'authoring');
export const fixture = (name: string): string => join(FIXTURES, name);
