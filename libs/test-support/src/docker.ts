import { getContainerRuntimeClient } from 'testcontainers';

/** What every test that needs Docker says when none is reachable: how to get an engine. */
export const NO_DOCKER_MESSAGE =
  'No Docker engine reachable: these tests need one. Start Docker, or on Debian run `sudo bash infra/docker-engine.sh` (and `sudo bash infra/offline-images.sh` without a registry).';

/**
 * Resolves when a container engine answers; otherwise fails with NO_DOCKER_MESSAGE (the probe's
 * own error as `cause`). Tests that need Docker call this first so they fail with one clear
 * line instead of a timeout deep inside a library, and are never silently skipped.
 *
 * The probe is Testcontainers' runtime client (it pings the engine over its API, wherever
 * DOCKER_HOST or the default socket puts it), which serves the Compose tests too: the docker
 * CLI talks to the same engine. `probe` is replaceable only so the failure can be tested.
 */
export async function requireDocker(
  probe: () => Promise<unknown> = getContainerRuntimeClient,
): Promise<void> {
  try {
    await probe();
  } catch (cause) {
    throw new Error(NO_DOCKER_MESSAGE, { cause });
  }
}
