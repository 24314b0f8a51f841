import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { badInput, failed, refused } from '../../core/errors.js';
import type { Identity } from '../../core/identity.js';
import type { Argv, Runner } from '../runner/runner.js';

/** The signature namespace: a signature made for git or anything else is not an approval. */
export const APPROVAL_NAMESPACE = 'shipgate-approval';

export const signArgv = (keyFile: string, messageFile: string): Argv => ['ssh-keygen', '-Y', 'sign', '-f', keyFile, '-n', APPROVAL_NAMESPACE, messageFile];
export const findPrincipalsArgv = (allowedSigners: string, signatureFile: string): Argv => ['ssh-keygen', '-Y', 'find-principals', '-f', allowedSigners, '-s', signatureFile];
/** The message comes on stdin. */
export const verifyArgv = (allowedSigners: string, principal: string, signatureFile: string): Argv => ['ssh-keygen', '-Y', 'verify', '-f', allowedSigners, '-I', principal, '-n', APPROVAL_NAMESPACE, '-s', signatureFile];

/** Signs `text` with a private key (ssh-keygen may ask for its passphrase); returns the armored signature. */
export async function signText(runner: Runner, keyFile: string, text: string): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-sign-'));
  try {
    const message = path.join(dir, 'request.txt');
    writeFileSync(message, text);
    const res = await runner.run(signArgv(keyFile, message), { timeoutMs: 60_000 });
    if (res.exitCode !== 0) throw badInput(`could not sign with ${keyFile}: ${res.stderr.trim() || `ssh-keygen exited ${res.exitCode}`}`, { where: '--sign-with', hint: 'Give a private SSH key (e.g. ~/.ssh/id_ed25519) whose public half is in the allowed-signers file.' });
    return readFileSync(`${message}.sig`, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The one principal of the allowed-signers file whose key made a good signature over `text`. */
export async function verifySignedText(runner: Runner, allowedSigners: string, text: string, signature: string): Promise<Identity> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-verify-'));
  try {
    const sigFile = path.join(dir, 'request.sig');
    writeFileSync(sigFile, signature);
    const found = await runner.run(findPrincipalsArgv(allowedSigners, sigFile), { timeoutMs: 30_000 });
    const principals = found.exitCode === 0 ? found.stdout.split('\n').map((l) => l.trim()).filter(Boolean) : [];
    if (!principals.length) {
      throw refused(`the signature's key is not in the allowed-signers file ${allowedSigners}${found.stderr.trim() ? ` (${found.stderr.trim()})` : ''}`, { hint: 'Sign with your own key, and ask an admin to add "NAME namespaces="shipgate-approval" KEY" for it to the allowed-signers file.' });
    }
    if (principals.length > 1) throw refused(`the signing key belongs to ${principals.join(', ')} in ${allowedSigners}: one key must name one person`, { hint: 'Give each person their own key in the allowed-signers file.' });
    const principal = principals[0]!;
    const res = await runner.run(verifyArgv(allowedSigners, principal, sigFile), { timeoutMs: 30_000, input: text });
    if (res.exitCode !== 0) throw refused(`the signature does not verify for ${principal}: ${(res.stderr || res.stdout).trim()}`, { hint: 'Sign exactly this request (shipgate approve ID --print-request) with the namespace shipgate-approval.' });
    const fingerprint = /(SHA256:[A-Za-z0-9+/=]+)/.exec(`${res.stdout}\n${res.stderr}`)?.[1];
    if (!fingerprint) throw failed(`ssh-keygen verified the signature but named no key fingerprint: ${res.stdout.trim()}`);
    return { method: 'ssh-signature', principal, fingerprint };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
