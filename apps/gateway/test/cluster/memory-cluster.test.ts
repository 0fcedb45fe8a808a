import { memoryCluster } from '../support/cluster';
import { clusterSuite } from './cluster-suite';

clusterSuite('one in-memory broker', () => memoryCluster(3));
clusterSuite('one in-memory broker', () => memoryCluster(3), { batch: true });
