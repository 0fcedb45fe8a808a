import { MemoryBroker, MemoryBus } from '../../src/bus/memory-bus';
import { MemoryState } from '../../src/state/memory-state';
import { stateContract } from './state-contract';

stateContract('MemoryState', async () => {
  const broker = new MemoryBroker();
  return { state: new MemoryState(broker), bus: new MemoryBus(broker) };
});
