"""The course hub: JupyterHub with one JupyterLab container per student (docs/hub.md).

- :mod:`~coursebench.hub.course` — the ``[hub]`` table of course.toml and the roster → the hub's users;
- :mod:`~coursebench.hub.config` — a ``jupyterhub_config.py`` rendered from them;
- :mod:`~coursebench.hub.spawner` — the DockerSpawner subclass (host networking on loopback,
  limits, a private home per student, GPU grants through the engine's GPU slots);
- :mod:`~coursebench.hub.auth` — login with the roster tokens (checked by the leaderboard);
- :mod:`~coursebench.hub.process` — start, stop and inspect the hub process;
- :mod:`~coursebench.hub.cli` — ``coursebench hub start|stop|status|config``.

JupyterHub and DockerSpawner are the ``hub`` extra; nothing here imports them on import of
this package.
"""
