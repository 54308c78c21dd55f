from tests.trajectory.conftest import _no_env_leaks, traj  # noqa: F401 - the same in-memory harness
