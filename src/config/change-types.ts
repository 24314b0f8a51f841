// Apart from schema.ts so that `deploy --help` can list them without building the schema.
export const CHANGE_TYPES = ['db-schema', 'strategy', 'breaker-logic', 'reconciliation', 'major', 'docs-only', 'ui-only', 'config-only', 'hotfix'] as const;
