import { MemoryBroker } from '../../src/broker/memory/memory-broker';
import { MemoryBus } from '../../src/broker/memory/memory-bus';
import { MemoryState } from '../../src/broker/memory/memory-state';
import { stateContract } from './state-contract';

stateContract('MemoryState', async () => {
  const broker = new MemoryBroker();
  return { state: new MemoryState(broker), bus: new MemoryBus(broker) };
});
