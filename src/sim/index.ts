export { startFleetSim } from './fleet-sim.js';
export { simOptionsFromFleet } from './from-fleet.js';
export type { FleetSim, FleetSimOptions, SimProxyInfo, SimProxyOptions } from './options.js';
export { FAULT_MODES, type Fault, type FaultMode } from './fault.js';
export type { ProxyRunState, ProxyView, ShutdownMode } from './sim-proxy.js';
export type { TctlNode, TctlProxy } from './inventory.js';
export type { BuildBehaviour } from './build-behaviour.js';
