import { startApiServer } from './api-server.js';
import { faultSwitchCases } from './fault-switch-cases.js';

faultSwitchCases('test API server', (options) => startApiServer(options));
