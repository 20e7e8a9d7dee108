/**
 * Backend selection. wasm is the default (ships its binary, works offline); cpu is the pure-JS fallback;
 * tfjs-node / tfjs-node-gpu are used only when the user installed them (they cannot install offline).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export type BackendName = 'wasm' | 'cpu' | 'tensorflow' | 'webgl' | 'webgpu';
export const DEFAULT_BACKEND: BackendName = 'wasm';

/** Register an optional native backend if its package is installed; returns whether it is available. */
export function tryRegisterNative(): boolean {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require.resolve(pkg);
      require(pkg);
      return true;
    } catch {
      /* not installed: fine, it is optional */
    }
  }
  return false;
}

/**
 * Select and initialise a backend: the argument, else $BONELAB_BACKEND, else wasm.
 * Throws naming the backend when it cannot be initialised.
 */
export async function initBackend(name?: string): Promise<string> {
  const want = (name ?? process.env.BONELAB_BACKEND ?? DEFAULT_BACKEND) as BackendName;
  if (want === 'tensorflow' && !tryRegisterNative()) {
    throw new Error(`backend 'tensorflow' needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu installed (npm install @tensorflow/tfjs-node)`);
  }
  if (tf.getBackend() === want) return want;
  const ok = await tf.setBackend(want);
  if (!ok) throw new Error(`backend '${want}' could not be initialised (available: ${Object.keys(tf.engine().registryFactory).join(', ')})`);
  await tf.ready();
  return tf.getBackend();
}
