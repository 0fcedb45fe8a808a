import { memoryCluster } from '../support/cluster';
import { dmSuite } from './dm-suite';

dmSuite('one in-memory broker', (overrides) => memoryCluster(3, overrides));
