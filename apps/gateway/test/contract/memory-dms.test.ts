import { DM_ACTIVE_MS } from '../../src/broker/dm-store';
import { MemoryBroker } from '../../src/broker/memory/memory-broker';
import { MemoryBus } from '../../src/broker/memory/memory-bus';
import { MemoryDms } from '../../src/broker/memory/memory-dms';
import { dmStoreContract } from './dm-store-contract';

dmStoreContract('MemoryDms', async ({ limit, ttlMs, archived }) => {
  const broker = new MemoryBroker();
  const activeMs = archived === true ? DM_ACTIVE_MS : 0;
  return { store: new MemoryDms(broker, { limit, ttlMs, activeMs }), bus: new MemoryBus(broker) };
});
