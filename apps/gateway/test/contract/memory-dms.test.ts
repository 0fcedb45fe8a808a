import { MemoryBroker } from '../../src/broker/memory/memory-broker';
import { MemoryBus } from '../../src/broker/memory/memory-bus';
import { MemoryDms } from '../../src/broker/memory/memory-dms';
import { dmStoreContract } from './dm-store-contract';

dmStoreContract('MemoryDms', async (storage) => {
  const broker = new MemoryBroker();
  return { store: new MemoryDms(broker, storage), bus: new MemoryBus(broker) };
});
