/**
 * Resume keys the cluster keeps at most (the newest), in the broker and in each node's memory:
 * bounds the key ring whatever the churn of gateway processes (see ResumeTokens). @default 256
 */
export const MAX_RESUME_KEYS = 256;
