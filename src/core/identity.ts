/**
 * Who did something, and how shipgate knows. Only a proof (a signature checked against an
 * allowed-signers file, an API token's owner) identifies a person; `trust-local` and `claimed`
 * names are recorded as such so nobody mistakes them for proof.
 */
export type Identity =
  | { method: 'ssh-signature'; principal: string; fingerprint: string }
  | { method: 'api-token'; principal: string; tokenId: string }
  | { method: 'trust-local'; principal: string; ranBy: string }
  | { method: 'claimed'; principal: string };

export const isProven = (i: Identity): boolean => i.method === 'ssh-signature' || i.method === 'api-token';

type SignedRequest = { id: number; env: string; action: string; subject: string; requester: string; reason: string; createdAt: string; expiresAt: string };

const requestDocument = (type: string, a: SignedRequest) =>
  `${JSON.stringify({ type, id: a.id, env: a.env, action: a.action, subject: a.subject, requester: a.requester, reason: a.reason, createdAt: a.createdAt, expiresAt: a.expiresAt })}\n`;

/** The exact text an approver signs: fixed field order, one JSON document, so both sides agree byte for byte. */
export const approvalRequestText = (a: SignedRequest): string => requestDocument('shipgate-approval', a);

/**
 * The exact text a requester signs to prove who asked. Its own type, so a requester's signature
 * can never be presented as an approval of the same request, nor an approval as a request.
 */
export const requesterText = (a: SignedRequest): string => requestDocument('shipgate-approval-request', a);
