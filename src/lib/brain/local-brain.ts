/**
 * Built-in brain for deployments without BRAIN_URL (docs/design.md §Contracts), so calls still work. Same
 * `reply(req, {signal, onToken})` contract as the HTTP client; the answer is "streamed" to onToken in
 * sentence chunks (concatenated they equal `text`), so the pipeline is identical.
 *
 * Answer order (transcript normalized like quick replies: case, accents, punctuation ignored):
 * 1. tenant `quickReplies` (quick-replies.ts, first match wins);
 * 2. an `assistantContext` fact when the caller asks for it. Topics and their trigger words:
 *    hours (hours, open, opening, close, closing, closed), address (address, located, location,
 *    "where are you", directions, "find you"), phone (phone, number, telephone, "call you"), email
 *    (email, "e mail"), website (website, "web site", url), name ("who is this", "who are you",
 *    "your name", "business name", "company name"). Context keys are matched case-insensitively with
 *    `_`/`-`/spaces ignored: hours|businessHours|openingHours|hoursOfOperation|openHours,
 *    address|location|businessAddress, phone|phoneNumber|telephone|businessPhone, email|emailAddress,
 *    website|url|site, businessName|companyName|name. Values may be strings, numbers, arrays or flat
 *    objects ({mon:"9-5"} → "mon: 9-5"). Topic asked but not in the context → "I don't have …";
 * 3. greetings / thanks / goodbye / nothing heard → short canned answers;
 * 4. anything else → "I'm sorry, I can only help with basic questions right now, …".
 */
import { matchQuickReply, normalizeForMatch } from './quick-replies';
import { brainAborted, type Brain, type BrainReplyOptions, type BrainRequest, type BrainResult } from './port';

interface Topic {
  name: string;
  /** Spoken in "like our …" and "I don't have our … right now". */
  label: string;
  ask: RegExp;
  keys: string[];
  say: (value: string) => string;
}

const TOPICS: Topic[] = [
  {
    name: 'hours', label: 'hours', ask: /\b(hours?|open|opening|close|closing|closed)\b/,
    keys: ['hours', 'businesshours', 'openinghours', 'hoursofoperation', 'openhours'], say: (v) => `Our hours are ${v}`,
  },
  {
    name: 'address', label: 'address', ask: /\b(address|located|location|where are you|directions|find you)\b/,
    keys: ['address', 'location', 'businessaddress'], say: (v) => `We're located at ${v}`,
  },
  {
    name: 'phone', label: 'phone number', ask: /\b(phone|number|telephone|call you)\b/,
    keys: ['phone', 'phonenumber', 'telephone', 'businessphone'], say: (v) => `You can reach us at ${v}`,
  },
  { name: 'email', label: 'email address', ask: /\b(email|e mail)\b/, keys: ['email', 'emailaddress'], say: (v) => `Our email address is ${v}` },
  { name: 'website', label: 'website', ask: /\b(website|web site|url)\b/, keys: ['website', 'url', 'site'], say: (v) => `Our website is ${v}` },
  {
    name: 'name', label: 'business name', ask: /\b(who is this|who are you|your name|business name|company name)\b/,
    keys: ['businessname', 'companyname', 'name'], say: (v) => `This is ${v}`,
  },
];

const GREETING = /^(hi|hello|hey|hiya|good (morning|afternoon|evening))\b/;
const THANKS = /\b(thank you|thanks|bye|goodbye|good bye)\b/;

function formatValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) {
    const parts = v.map(formatValue).filter((s): s is string => s !== undefined);
    return parts.length ? parts.join(', ') : undefined;
  }
  if (v && typeof v === 'object') {
    const parts = Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => (typeof x === 'string' || typeof x === 'number' ? `${k}: ${String(x).trim()}` : undefined))
      .filter((s): s is string => s !== undefined);
    return parts.length ? parts.join(', ') : undefined;
  }
  return undefined;
}

const keyOf = (k: string) => k.toLowerCase().replace(/[\s_-]+/g, '');

/** First non-empty context value under one of `keys` (normalized key match), max 300 chars. */
export function contextValue(ctx: Record<string, unknown> | undefined, keys: string[]): string | undefined {
  if (!ctx) return undefined;
  const byKey = new Map(Object.entries(ctx).map(([k, v]) => [keyOf(k), v]));
  for (const k of keys) {
    const v = formatValue(byKey.get(k));
    if (v) return v.length > 300 ? `${v.slice(0, 300).replace(/\s+\S*$/, '')}…` : v;
  }
  return undefined;
}

const sentence = (s: string) => (/[.!?…]$/.test(s) ? s : `${s}.`);

/** The local brain's answer for a request (pure; see the file comment for the rules). */
export function localAnswer(req: Pick<BrainRequest, 'transcript' | 'assistantContext' | 'quickReplies'>): string {
  const quick = matchQuickReply(req.transcript, req.quickReplies);
  if (quick) return quick;
  const said = normalizeForMatch(req.transcript);
  const ctx = req.assistantContext;
  const business = contextValue(ctx, ['businessname', 'companyname', 'name']);
  if (said === '') return "Sorry, I didn't catch that. Could you please say it again?";
  for (const t of TOPICS) {
    if (!t.ask.test(said)) continue;
    const v = contextValue(ctx, t.keys);
    if (v) return sentence(t.say(v));
    return `I'm sorry, I don't have our ${t.label} available right now.`;
  }
  if (GREETING.test(said) && said.split(' ').length <= 4) {
    return business ? `Hello, thanks for calling ${business}. How can I help you today?` : 'Hello! How can I help you today?';
  }
  if (THANKS.test(said)) return "You're welcome. Thank you for calling, goodbye!";
  const known = TOPICS.filter((t) => t.name !== 'name' && contextValue(ctx, t.keys)).map((t) => t.label);
  if (known.length === 0) return "I'm sorry, I can only help with basic questions right now. Please try again later.";
  const list = known.length === 1 ? known[0] : `${known.slice(0, -1).join(', ')} or ${known[known.length - 1]}`;
  return `I'm sorry, I can only help with basic questions right now, like our ${list}.`;
}

/** Sentence chunks whose concatenation is `text` (each keeps its trailing space). */
export function sentenceChunks(text: string): string[] {
  return text.match(/[^.!?…]*(?:[.!?…]+(?:\s+|$)|$)/g)?.filter((c) => c !== '') ?? [text];
}

export function createLocalBrain(): Brain {
  return {
    async reply(req: BrainRequest, o: BrainReplyOptions = {}): Promise<BrainResult> {
      const started = performance.now();
      let delivered = '';
      let firstTokenMs: number | undefined;
      if (o.signal?.aborted) throw brainAborted();
      const text = localAnswer(req);
      for (const chunk of sentenceChunks(text)) {
        // Yield between chunks like a real stream, so a barge-in can cancel.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (o.signal?.aborted) throw brainAborted(delivered, o.signal.reason);
        firstTokenMs ??= performance.now() - started;
        delivered += chunk;
        o.onToken?.(chunk);
      }
      return { text, streamed: false, source: 'local', ...(firstTokenMs !== undefined ? { firstTokenMs } : {}) };
    },
    close() {},
  };
}
