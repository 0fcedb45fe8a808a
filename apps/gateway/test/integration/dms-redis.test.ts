import { useRedis } from '@chat/test-support';
import { redisCluster } from '../support/cluster';
import { dmSuite } from '../cluster/dm-suite';

const redis = useRedis();

dmSuite('one Redis', (overrides) => redisCluster(redis.url, 3, overrides));
