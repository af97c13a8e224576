/** Fixed caller-facing texts of the phone line. Synthesized once per voice and cached. */
export const PROMPTS = {
  not_configured: 'The number you dialed is not configured.',
  invalid_config: 'This number is not fully configured.',
  at_capacity: 'We are currently at capacity. Please try again later.',
  // A Redis/caps failure is not the caller's number's fault: same words as capacity.
  capacity_error: 'We are currently at capacity. Please try again later.',
  max_duration: 'We have reached the maximum call length. Thank you for calling. Goodbye.',
} as const;

export type PromptKey = keyof typeof PROMPTS;
