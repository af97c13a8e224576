/**
 * Normalizes a dialled number to E.164 for the tenant map lookup. Telnyx sends `to` as E.164
 * already ("+15551234567"), but SIP URIs ("sip:+1555...@host"), spaces, dashes and national
 * 10-digit NANP numbers show up from other trunks and from hand-written test events.
 */
export function normalizeE164(raw: string | undefined | null): string | undefined {
  if (!raw) return undefined;
  let s = raw.trim();
  const sip = /^sips?:([^@;]+)/i.exec(s);
  if (sip) s = sip[1]!;
  s = s.replace(/^tel:/i, '');
  const plus = s.startsWith('+') || s.startsWith('00');
  const digits = s.replace(/^00/, '').replace(/[^0-9]/g, '');
  if (digits.length < 7 || digits.length > 15) return undefined;
  if (plus) return `+${digits}`;
  // A bare 10-digit number is a NANP national number; 11 digits starting with 1 is NANP with trunk prefix.
  if (digits.length === 10) return `+1${digits}`;
  return `+${digits}`;
}
