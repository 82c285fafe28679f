import { startTestCluster } from './cluster.js';
import { faultSwitchCases } from './fault-switch-cases.js';

faultSwitchCases('fault proxy (in front of the backend the environment picks)', (options) => startTestCluster(options));
