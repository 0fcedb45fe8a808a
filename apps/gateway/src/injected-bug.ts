/**
 * TEST ONLY. A deliberate bug that the chaos soak's self-test (soak/test/injected-bug.test.ts)
 * switches on in the gateways it starts, to prove that the soak's checker catches it:
 * `CHAT_TEST_INJECT_BUG=skip-cid-dedupe` stores a retried send again instead of recognising its
 * `cid`. It is not configuration: README's table does not list it, no deployment may set it,
 * and a gateway that has it on says so in a warning at start-up.
 */
export type InjectedBug = 'skip-cid-dedupe';

const value = process.env.CHAT_TEST_INJECT_BUG;

export const INJECTED_BUG: InjectedBug | undefined =
  value === 'skip-cid-dedupe' ? value : undefined;
