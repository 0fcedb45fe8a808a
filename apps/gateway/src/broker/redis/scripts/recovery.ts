import { FENCE } from './fragments';
import { LuaScript } from './lua-script';

/**
 * Whether what Redis holds may still lack what live nodes are about to write back after a loss
 * (see BrokerFence): 'forgot' when this node's mark is missing or older than `mark`, the one it
 * last wrote (a loss it has not checked in since), 'settling' while the settle window is open,
 * else ''.
 */
export const RECOVERING = new LuaScript({
  name: 'recovering',
  keys: ['node_mark', 'settle'],
  argv: ['mark'],
  body: `${FENCE}
return fence_refusal(node_mark, mark, settle, '1') or ''
`,
  parse: (reply) => (reply === 'forgot' || reply === 'settling' ? reply : undefined),
});
