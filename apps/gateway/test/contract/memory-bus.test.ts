import { MemoryBroker, MemoryBus } from '../../src/bus/memory-bus';
import { busContract } from './bus-contract';

busContract('MemoryBus', async () => {
  const broker = new MemoryBroker(10);
  return { nodes: [new MemoryBus(broker), new MemoryBus(broker)], historyLimit: 10 };
});
