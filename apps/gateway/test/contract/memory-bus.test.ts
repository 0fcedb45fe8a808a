import { MemoryBroker } from '../../src/broker/memory/memory-broker';
import { MemoryBus } from '../../src/broker/memory/memory-bus';
import { busContract } from './bus-contract';

busContract('MemoryBus', async (storage) => {
  const broker = new MemoryBroker(10, Date.now, storage);
  return { nodes: [new MemoryBus(broker), new MemoryBus(broker)], historyLimit: 10 };
});
