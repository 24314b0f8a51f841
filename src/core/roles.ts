/**
 * API roles, each allowed what the one below it is: viewer < deployer < approver < admin.
 * viewer reads; deployer acts to stop trading (trip the breaker, engage the kill switch) and asks
 * for approvals; approver approves others' requests and resets the breaker; admin turns the kill
 * switch off and manages tokens.
 */
export const ROLES = ['viewer', 'deployer', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

/** True when `have` is `need` or above it. */
export const roleAtLeast = (have: Role, need: Role): boolean => ROLES.indexOf(have) >= ROLES.indexOf(need);
