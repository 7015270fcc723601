// Values of the Sysroot and OS properties, as dbus-next values of the XML types.
import { osObjectPath } from './revision.js';
import { deploymentDict, queryDeploymentsFor, type BackendDeployment, type BackendState } from './state.js';
import { toVariantDict } from './variants.js';

/** The running transaction as the Sysroot properties show it. */
export interface ActiveTransactionView {
  readonly method: string;
  readonly sender: string;
  readonly osPath: string;
  readonly address: string;
}

/** Inputs of {@link sysrootProperty}. */
export interface SysrootView {
  readonly state: BackendState;
  readonly sysrootPath: string;
  readonly policy: string;
  readonly transaction: ActiveTransactionView | null;
}

/** One `org.projectatomic.rpmostree1.Sysroot` property; undefined for unknown names. */
export function sysrootProperty(name: string, v: SysrootView): unknown {
  switch (name) {
    case 'Booted':
      return v.state.booted ? osObjectPath(v.state.booted.osname) : '/';
    case 'Path':
      return v.sysrootPath;
    case 'ActiveTransaction':
      return v.transaction ? [v.transaction.method, v.transaction.sender, v.transaction.osPath] : ['', '', ''];
    case 'ActiveTransactionPath':
      return v.transaction ? v.transaction.address : '';
    case 'Deployments':
      return v.state.deployments.map((d) => toVariantDict(deploymentDict(d)));
    case 'AutomaticUpdatePolicy':
      return v.policy;
    default:
      return undefined;
  }
}

const dict = (d: BackendDeployment | null): unknown => (d ? toVariantDict(deploymentDict(d)) : {});

/** One `org.projectatomic.rpmostree1.OS` property of `osname`; undefined for unknown names. */
export function osProperty(state: BackendState, osname: string, name: string): unknown {
  const { pending, rollback } = queryDeploymentsFor(state, osname);
  const booted = state.booted?.osname === osname ? state.booted : null;
  switch (name) {
    case 'Name':
      return osname;
    case 'BootedDeployment':
      return dict(booted);
    case 'DefaultDeployment':
      // The next boot: the pending deployment if there is one, else the booted one.
      return dict(pending ?? booted);
    case 'RollbackDeployment':
      return dict(rollback);
    case 'CachedUpdate':
      return {};
    case 'HasCachedUpdateRpmDiff':
      return false;
    default:
      return undefined;
  }
}
