import { badInput } from './errors.js';

// A release is a git tag or commit. The set is deliberately narrower than git's ref grammar:
// anything that could be read as a shell metacharacter, an option or a path escape is refused.
const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

export function assertVersionSyntax(version: string, field = '--version'): string {
  if (!VERSION_PATTERN.test(version) || version.includes('..')) {
    throw badInput(`${JSON.stringify(version)} is not a valid release version`, {
      where: field,
      hint: 'Use a git tag or commit such as v1.2.3 or 3f9c2ab: letters, digits, ".", "_", "+" and "-", starting with a letter or digit.',
    });
  }
  return version;
}

export function isValidVersion(version: string): boolean {
  return VERSION_PATTERN.test(version) && !version.includes('..');
}
