// Apart from the schema so that checking a typed name (an --env, a <service>) loads no schema library.

/** Environment, service and lock names: what shipgate.yml may declare. */
export const NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/** Names that plain-object lookups would find on Object.prototype (`constructor`): never a user's name. */
export const isReservedName = (name: string): boolean => name in Object.prototype;

/** Why `name` cannot be an environment/service/lock name, or undefined when it can. */
export function nameProblem(name: string): string | undefined {
  if (!NAME.test(name)) return 'names are 1-63 lower-case letters, digits, "_" and "-", starting with a letter';
  if (isReservedName(name)) return `"${name}" is reserved (it names a built-in property of every JavaScript object)`;
  return undefined;
}
