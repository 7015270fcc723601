#!/usr/bin/env node
// `npm run simulate -- --nodes N --slots K [...]`: the fleet simulator (src/simulator, built into dist/).
// N simulated nodes, each the agent's real core over an in-memory SimulatedHost, against the real
// alt-graphd and alt-fleetlockd executables (child processes on 127.0.0.1, started by the simulator),
// all on one compressed virtual clock.
// See docs/usage/fleet-planning.md.
const { simulateMain } = await import(new URL('../dist/src/simulator/main.js', import.meta.url).href);
process.exitCode = await simulateMain(process.argv.slice(2));
